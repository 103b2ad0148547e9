"""The pool's REST endpoints: a bank's system files claims (with an idempotency key) and reads its own, and
reports its loans' five-tier classifications; the bureau reads every claim and classification. Amounts are
decimal strings in 元, never floats."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.response import Response

from huiqi.core.money import fen_to_yuan, yuan_to_fen
from huiqi.core.permissions import require

from . import selectors, services
from .filters import ClassificationFilter
from .models import Claim, Classification


def _yuan(fen) -> str:
    return str(fen_to_yuan(fen))


class ClaimSerializer(serializers.ModelSerializer):
    bank_code = serializers.CharField(source="bank.code", read_only=True)
    loan_no = serializers.CharField(source="loan.loan_no", read_only=True)
    loss = serializers.SerializerMethodField()
    compensation = serializers.SerializerMethodField()
    approved = serializers.SerializerMethodField()
    paid = serializers.SerializerMethodField()
    returned = serializers.SerializerMethodField()
    ratio = serializers.DecimalField(max_digits=5, decimal_places=4, read_only=True)

    class Meta:
        model = Claim
        fields = ["id", "bank_code", "loan_no", "npl_date", "status", "outcome", "reason", "ratio", "loss",
                  "compensation", "approved", "paid", "returned", "filed_on", "idempotency_key"]

    def get_loss(self, obj) -> str:
        return _yuan(obj.loss_fen)

    def get_compensation(self, obj) -> str:
        return _yuan(obj.compensation_fen)

    def get_approved(self, obj) -> str:
        return _yuan(obj.approved_fen)

    def get_paid(self, obj) -> str:
        return _yuan(obj.paid_fen)

    def get_returned(self, obj) -> str:
        return _yuan(obj.returned_fen)


class ClaimRequest(serializers.Serializer):
    loan_no = serializers.CharField(max_length=64)
    outstanding_principal = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, required=False)
    recovered = serializers.DecimalField(max_digits=16, decimal_places=2, min_value=0, required=False)
    evidence = serializers.CharField(max_length=2000, required=False, allow_blank=True)
    npl_date = serializers.DateField(required=False, help_text="blank: the first day the loan's reported "
                                     "five-tier classification is substandard or worse, else its NPL record's")


class ClaimViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Claims the caller may see (a bank: its own). A bank files one by POST; the same `Idempotency-Key`
    header again returns the claim it filed, without filing twice."""

    serializer_class = ClaimSerializer

    def get_queryset(self):
        return selectors.claims_for(self.request.user).order_by("-filed_at", "-id")

    @extend_schema(request=ClaimRequest, responses={201: ClaimSerializer},
                   parameters=[OpenApiParameter("Idempotency-Key", str, location=OpenApiParameter.HEADER)])
    def create(self, request, *args, **kwargs):
        ser = ClaimRequest(data=request.data)
        ser.is_valid(raise_exception=True)
        d = ser.validated_data
        bank = getattr(request.user, "bank", None)
        claim = services.file_claim(request.user, services.ClaimInput(
            bank.code if bank is not None else "", d["loan_no"].strip(),
            yuan_to_fen(d["outstanding_principal"]) if d.get("outstanding_principal") is not None else None,
            yuan_to_fen(d["recovered"]) if d.get("recovered") is not None else None, d.get("evidence", ""),
            request.headers.get("Idempotency-Key", "")[:100], d.get("npl_date")))
        return Response(ClaimSerializer(claim).data, status=201)


class ClassificationSerializer(serializers.ModelSerializer):
    bank_code = serializers.CharField(source="loan.bank.code", read_only=True)
    loan_no = serializers.CharField(source="loan.loan_no", read_only=True)

    class Meta:
        model = Classification
        fields = ["id", "bank_code", "loan_no", "on", "tier", "reported_at"]


class ClassificationItem(serializers.Serializer):
    bank_code = serializers.CharField(max_length=32, required=False, help_text="blank: the caller's bank")
    loan_no = serializers.CharField(max_length=64)
    on = serializers.DateField()
    tier = serializers.CharField(max_length=20, help_text="正常/关注/次级/可疑/损失, normal/special_mention/"
                                 "substandard/doubtful/loss, or 1-5")


class ClassificationBatch(serializers.Serializer):
    classifications = ClassificationItem(many=True, allow_empty=False, max_length=10_000)


class ClassificationResult(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class ClassificationViewSet(mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Five-tier classifications the caller may see (a bank: its own loans'), filtered by `loan_no`. A bank's
    system reports its loans' classifications by POST: all of them stored or, naming every bad item, none;
    the same report again changes nothing."""

    serializer_class = ClassificationSerializer
    filterset_class = ClassificationFilter

    def get_queryset(self):
        return selectors.classifications_for(self.request.user).order_by("loan__bank__code", "loan__loan_no", "on")

    @extend_schema(request=ClassificationBatch, responses={201: ClassificationResult})
    def create(self, request, *args, **kwargs):
        require(request.user, "pool.report_classification")
        ser = ClassificationBatch(data=request.data)
        ser.is_valid(raise_exception=True)
        own = getattr(getattr(request.user, "bank", None), "code", "")
        items = [services.ClassificationInput(d.get("bank_code", own).strip(), d["loan_no"].strip(), d["on"], d["tier"])
                 for d in ser.validated_data["classifications"]]
        return Response(services.report_classifications(request.user, items), status=201)
