import re

from rest_framework import pagination
from rest_framework.exceptions import ValidationError

PAGE_SIZE_MESSAGE = "Enter a whole number of at least 1 (lists return at most {maximum} rows a page)."
DIGITS = re.compile(r"[0-9]+")  # ASCII only: "²".isdigit() is true and int("²") fails


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=`` and ``?page_size=`` (max 500); the body has ``count``, ``next``, ``previous``, ``results``.

    DRF ignores a ``page_size`` it cannot read and quietly returns the default page instead; here it is a
    400 on ``page_size``, so an integration's typo is seen. A size above the maximum is capped, as in DRF.
    A ``page`` past the end or not a number stays DRF's 404 "Invalid page." (declared in the schema).
    """

    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_size(self, request):
        raw = request.query_params.get(self.page_size_query_param, "")
        if raw == "":
            return self.page_size
        significant = raw.lstrip("0")
        if not DIGITS.fullmatch(raw) or not significant:
            raise ValidationError({self.page_size_query_param: [PAGE_SIZE_MESSAGE.format(maximum=self.max_page_size)]})
        # Past six digits the answer is the maximum anyway: never int() a 5 000-digit number.
        return self.max_page_size if len(significant) > 6 else min(int(significant), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["description"] = (
                    f"Rows per page, 1 or more; above {self.max_page_size} counts as {self.max_page_size}."
                )
        return parameters
