"""Chinese first: the language is the one the user chose (the switch sets a cookie), else zh-Hans.

Django's LocaleMiddleware would follow the browser's Accept-Language and show an English browser an
English site; the platform opens in Chinese for everyone and offers English as a switch.
"""

from django.conf import settings
from django.utils import translation


class ChineseFirstLocaleMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.supported = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.supported else settings.LANGUAGE_CODE
        request.LANGUAGE_CODE = language
        # For this request only: the thread's next request (or test) starts from the platform's language.
        with translation.override(language):
            response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response
