"""`huiqi worker [--once]`: run background jobs from the database queue."""

from django.core.management import BaseCommand

from huiqi.core import jobs


class Command(BaseCommand):
    help = "Run queued background jobs (several workers may run at once on PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="run what is queued now, then exit")

    def handle(self, *args, once, **options):
        if once:
            n = jobs.run_pending()
            self.stdout.write(f"ran {n} job(s)")
            return
        jobs.work_forever()
