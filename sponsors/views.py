from cro_cmo.generic_views import ObjectDetailView, ObjectEditView, ObjectListView
from sponsors.filtersets import ProgramFilterSet
from sponsors.forms import ProgramForm
from sponsors.models import Program


class ProgramListView(ObjectListView):
    queryset = Program.objects.all()
    filterset_class = ProgramFilterSet
    columns = ["code", "name", "phase", "therapeutic_area", "budget_cap"]


class ProgramDetailView(ObjectDetailView):
    queryset = Program.objects.select_related("sponsor")


class ProgramEditView(ObjectEditView):
    queryset = Program.objects.all()
    form_class = ProgramForm
    owner_field = "sponsor"
