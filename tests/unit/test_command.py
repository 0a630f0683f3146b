import pytest

from mlops.errors import MlopsError
from mlops.project.command import render, required_placeholders

COMMAND = "python a.py --data ${{inputs.data}} $[[--label ${{inputs.label}}]] --out ${{outputs.out}}"


def test_values_are_substituted_and_optional_block_kept_when_given():
    rendered = render(COMMAND, {"data": "/d/x.csv", "label": "blue"}, {"out": "/o"})
    assert rendered == "python a.py --data /d/x.csv --label blue --out /o"


def test_optional_block_dropped_when_input_not_provided():
    rendered = render(COMMAND, {"data": "/d/x.csv", "label": None}, {"out": "/o"})
    assert rendered == "python a.py --data /d/x.csv  --out /o"


def test_values_with_spaces_stay_one_argument():
    rendered = render(COMMAND, {"data": "/my data/x.csv", "label": None}, {"out": "/o"})
    assert "--data '/my data/x.csv'" in rendered


def test_required_input_without_value_is_an_error_naming_it():
    with pytest.raises(MlopsError, match="input 'data' has no value"):
        render(COMMAND, {"data": None, "label": None}, {"out": "/o"})


def test_undeclared_placeholder_is_an_error():
    with pytest.raises(MlopsError, match=r"\$\{\{inputs.nope\}\}"):
        render("python a.py ${{inputs.nope}}", {}, {})


def test_required_placeholders_ignore_optional_blocks():
    assert required_placeholders(COMMAND) == {("inputs", "data"), ("outputs", "out")}
