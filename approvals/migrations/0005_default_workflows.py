from django.db import migrations

# The default workflows of DESIGN.md, one per tier and for every brand. Editable in the admin; this
# only creates what is missing.


def seed(apps, schema_editor):
    from approvals.workflow import DEFAULT_WORKFLOWS

    Workflow = apps.get_model("approvals", "Workflow")
    WorkflowStep = apps.get_model("approvals", "WorkflowStep")
    for tier, name, skip_template, steps in DEFAULT_WORKFLOWS:
        if Workflow.objects.filter(brand__isnull=True, tier=tier, is_active=True).exists():
            continue
        workflow = Workflow.objects.create(name=name, tier=tier, skip_unchanged_template=skip_template)
        for position, (step_name, kind, role, condition) in enumerate(steps):
            WorkflowStep.objects.create(
                workflow=workflow, position=position, name=step_name, kind=kind, role=role, condition=condition
            )


class Migration(migrations.Migration):
    dependencies = [("approvals", "0004_review_links")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
