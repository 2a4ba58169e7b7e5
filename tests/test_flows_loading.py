"""Organization YAML: validation errors that name the file and the path, import and export."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from app import ROOT
from app.flows.loading import ConfigFileError, load_organization_file
from tests.conftest import DEMO_FILE


def write_variant(tmp_path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(DEMO_FILE.read_text())
    change(data)
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def problems_of(path: Path) -> list[str]:
    with pytest.raises(ConfigFileError) as caught:
        load_organization_file(path)
    return caught.value.problems


def test_demo_file_is_valid() -> None:
    config = load_organization_file(DEMO_FILE)
    assert config.name == "Demo Plumbing & Air" and config.publishable_key == "pk_test_demo"
    residential = config.flows[0]
    assert [s.type for s in residential.steps] == ["ZipCode", "ServiceSelection", "AdditionalDetails", "Timeslot", "Customer", "Summary"]
    assert "78701" in residential.service_area.zip_codes and "10001" not in residential.service_area.zip_codes
    assert [w.id for w in config.vendor.calendar.windows] == ["morning", "midday", "afternoon"]


def test_wrong_type_names_file_and_path(tmp_path: Path) -> None:
    path = write_variant(tmp_path, lambda d: d["flows"][0]["steps"].__setitem__(1, {"type": "Payment", "title": "Pay"}))
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: flows[0].steps[1].type: Input should be 'ZipCode'")


def test_answer_leading_nowhere(tmp_path: Path) -> None:
    path = write_variant(tmp_path, lambda d: d["flows"][0]["service_graph"]["questions"][1]["answers"][0].update(question="nowhere"))
    assert problems_of(path) == [f"{path}: flows[0].service_graph.questions[1].answers[0].question: no question has the id 'nowhere'"]


def test_answer_with_two_targets(tmp_path: Path) -> None:
    path = write_variant(tmp_path, lambda d: d["flows"][0]["service_graph"]["questions"][0]["answers"][0].update(service="leak-repair"))
    [problem] = problems_of(path)
    assert "flows[0].service_graph.questions[0].answers[0]" in problem and "exactly one of 'question' or 'service'" in problem


def test_questions_in_a_circle(tmp_path: Path) -> None:
    def loop(d):  # type: ignore[no-untyped-def]
        d["flows"][0]["service_graph"]["questions"][2]["answers"][0] = {"id": "again", "label": "Again", "question": "kind"}

    [problem] = problems_of(write_variant(tmp_path, loop))
    assert "questions lead in a circle" in problem and "kind" in problem


def test_missing_steps_and_bad_routing(tmp_path: Path) -> None:
    def change(d):  # type: ignore[no-untyped-def]
        d["flows"][1]["steps"] = [s for s in d["flows"][1]["steps"] if s["type"] != "Timeslot"]
        d["routing"]["default_flow"] = "gone"

    problems = problems_of(write_variant(tmp_path, change))
    assert any(p.endswith("routing.default_flow: no flow has the id 'gone'") for p in problems)
    assert any(p.endswith("flows[1].steps: a flow needs a Timeslot step") for p in problems)


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("slug: acme\nflows: [\n  - oops: : :\n")
    [problem] = problems_of(path)
    assert problem.startswith(f"{path}: line ") and "not valid YAML" in problem


def test_theme_values_are_checked(tmp_path: Path) -> None:
    path = write_variant(tmp_path, lambda d: d["flows"][0]["theme"].update(primary_color="red; background: url(x)"))
    [problem] = problems_of(path)
    assert "flows[0].theme.primary_color" in problem


def run_cli(*args: str, mongo_uri: str, database: str) -> subprocess.CompletedProcess[str]:
    env = {"MONGODB_URI": mongo_uri, "MONGODB_DATABASE": database, "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "app", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)


def test_import_then_export_gives_the_same_configuration(tmp_path: Path, mongo_uri: str, database_name: str, drop_database: None) -> None:
    imported = run_cli("flows", "import", str(DEMO_FILE), mongo_uri=mongo_uri, database=database_name)
    assert imported.returncode == 0, imported.stderr
    assert "imported demo-plumbing: residential, commercial" in imported.stdout
    out = tmp_path / "exported.yaml"
    exported = run_cli("flows", "export", "demo-plumbing", "-o", str(out), mongo_uri=mongo_uri, database=database_name)
    assert exported.returncode == 0, exported.stderr
    assert load_organization_file(out) == load_organization_file(DEMO_FILE)


def test_import_of_a_bad_file_stores_nothing_and_says_why(tmp_path: Path, mongo_uri: str, database_name: str, drop_database: None) -> None:
    path = write_variant(tmp_path, lambda d: d["flows"][0]["service_area"].update(zip_codes=["7870"]))
    result = run_cli("flows", "import", str(path), mongo_uri=mongo_uri, database=database_name)
    assert result.returncode == 1
    assert f"{path}: flows[0].service_area.zip_codes[0]: String should match pattern" in result.stderr
    missing = run_cli("flows", "export", "demo-plumbing", mongo_uri=mongo_uri, database=database_name)
    assert missing.returncode == 1 and "no organization with the slug 'demo-plumbing'" in missing.stderr


def test_a_flow_can_name_any_of_the_four_vendors() -> None:
    from app.demo import demo_organizations
    from app.flows.references import check_organization
    from app.vendors.registry import VENDOR_TYPES

    configs = demo_organizations()
    assert {c.vendor.type for c in configs} == set(VENDOR_TYPES)
    assert all(check_organization(c) == [] for c in configs)


def test_vendor_problems_name_the_yaml_path(tmp_path: Path) -> None:
    def servicetitan(**vendor: object):  # type: ignore[no-untyped-def]
        base = {"type": "servicetitan", "tenant": 1, "client_id": "a", "client_secret": "b", "app_key": "c",
                "campaign_id": 1, "default_job_type_id": 1, "booking_provider_id": 1}
        return lambda data: data.update(vendor=base | vendor)

    assert problems_of(write_variant(tmp_path, servicetitan(type="fieldedge"))) == [
        f"{tmp_path / 'acme.yaml'}: vendor.type: unknown vendor 'fieldedge' (use local, servicetitan, housecallpro, jobber)"
    ]
    assert problems_of(write_variant(tmp_path, servicetitan(booking_provider_id=None))) == [
        f"{tmp_path / 'acme.yaml'}: vendor: Value error, booking_mode 'crm' needs booking_provider_id (Settings > Integrations > Booking providers)"
    ]
    assert problems_of(write_variant(tmp_path, servicetitan(job_types={"roof-repair": 5}))) == [
        f"{tmp_path / 'acme.yaml'}: vendor.job_types.roof-repair: no flow has the service 'roof-repair'"
    ]
    assert problems_of(write_variant(tmp_path, servicetitan(tenant="abc"))) == [
        f"{tmp_path / 'acme.yaml'}: vendor.tenant: Input should be a valid integer, unable to parse string as an integer"
    ]
