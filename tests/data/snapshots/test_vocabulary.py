"""The store speaks the registry's words: aliases, names/versions, 'name:version'.

The old spellings (tag, tags, log, commit(tags=), 'name@3', DatasetVersion.tags)
keep working and warn with the new spelling.
"""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

import mlprod as mp
from mlprod.cli import main


@pytest.fixture
def store(tmp_path):
    store = mp.DatasetStore(tmp_path / "store")
    store.commit(pd.DataFrame({"a": [1]}), name="t", message="one", aliases=["first"])
    store.commit(pd.DataFrame({"a": [2]}), name="t", message="two")
    store.commit(pd.DataFrame({"a": [3]}), name="t", message="three")
    return store


def test_new_spellings_never_warn(store):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert [v.version for v in store.versions("t")] == [1, 2, 3]
        assert store.names() == ["t"]
        assert store.aliases("t") == {"first": 1}
        moved = store.set_alias("t", "first", 2)
        assert (moved.version, moved.aliases) == (2, ("first",))
        assert store.set_alias("t", "best", store.get("t:3")).version == 3
        assert store.set_alias("t", "newest").version == 3
        assert store.aliases("t") == {"first": 2, "best": 3, "newest": 3}
        assert store.get("t:2").ref == "t:2"
        assert store.get("t@best").version == 3
        assert store.get("t").version == 3
        assert store.load("t:1").equals(pd.DataFrame({"a": [1]}))
        assert store.load("t@first").equals(pd.DataFrame({"a": [2]}))
        child = store.commit(pd.DataFrame({"a": [4]}), name="u", parents=["t@best", "t:1", "t"])
        assert child.parents == ("t:3", "t:1", "t:3")
        assert store.diff("t:1", "t@best").labels == ("t:1", "t:3")


def test_alias_names_that_would_mean_a_version_are_refused(store):
    for bad in ("latest", "7"):
        with pytest.raises(mp.ConfigurationError, match="cannot be an alias") as info:
            store.set_alias("t", bad, 1)
        assert info.value.parameter == "alias"
    with pytest.raises(mp.ConfigurationError, match="not of 't'"):
        store.set_alias("t", "x", store.commit(pd.DataFrame({"a": [1]}), name="other"))
    with pytest.raises(mp.ConfigurationError, match="cannot be an alias"):
        store.commit(pd.DataFrame({"a": [1]}), name="t", aliases=["12"])


def test_malformed_references_are_refused(store):
    for bad in ("t:0", "t:x", "t:1@first", "t:1\n"):
        with pytest.raises(mp.ConfigurationError, match="Malformed dataset reference"):
            store.get(bad)
    with pytest.raises(mp.ConfigurationError, match="Malformed dataset reference"):
        store.commit(pd.DataFrame({"a": [1]}), name="t", parents=["t:"])
    with pytest.raises(mp.NotFound):
        store.get("t@nope")
    with pytest.raises(mp.NotFound):
        store.get("t:9")


def test_old_version_spelling_warns_and_still_works(store):
    with pytest.warns(DeprecationWarning, match="write 't:2'"):
        assert store.get("t@2").version == 2
    with pytest.warns(DeprecationWarning, match="write 't:1'"):
        assert store.load("t@1").equals(pd.DataFrame({"a": [1]}))
    with pytest.warns(DeprecationWarning, match="write 't:1'"):
        assert store.diff("t@1", "t:1").identical
    with pytest.warns(DeprecationWarning, match="write 't:2'"):
        child = store.commit(pd.DataFrame({"a": [5]}), name="u", parents=["t@2"])
    assert child.parents == ("t:2",)


def test_old_method_names_warn_and_still_work(store):
    with pytest.warns(DeprecationWarning, match=r"use versions\(name\)"):
        assert [v.version for v in store.log("t")] == [3, 2, 1]
    with pytest.warns(DeprecationWarning, match=r"use versions\(name\)"):
        assert [v.message for v in store.log("t", limit=1)] == ["three"]
    with pytest.warns(DeprecationWarning, match=r"use aliases\(name\)"):
        assert store.tags("t") == {"first": 1}
    with pytest.warns(DeprecationWarning, match=r"use set_alias\(name, alias, version\)"):
        assert store.tag("t", "prod").aliases == ("prod",)
    with (
        pytest.warns(DeprecationWarning, match="set_alias"),
        pytest.raises(mp.ConfigurationError, match="move=True"),
    ):
        store.tag("t", "prod", 1)
    with pytest.warns(DeprecationWarning, match="set_alias"):
        assert store.tag("t", "prod", 1, move=True).version == 1
    with pytest.warns(DeprecationWarning, match=r"commit\(aliases=...\)"):
        v = store.commit(pd.DataFrame({"a": [9]}), name="t", tags=["old"], aliases=["new"])
    assert v.aliases == ("new", "old")
    with pytest.warns(DeprecationWarning, match="use aliases"):
        assert v.tags == ("new", "old")


def test_the_deprecation_warnings_point_at_the_caller(store):
    with pytest.warns(DeprecationWarning, match="versions") as log:
        store.log("t")
    with pytest.warns(DeprecationWarning, match="aliases") as tags:
        store.tags("t")
    with pytest.warns(DeprecationWarning, match="t:1") as ref:
        store.get("t@1")
    assert [w.filename for w in [*log, *tags, *ref]] == [__file__] * 3


def test_manifests_with_old_parent_references_read_in_the_new_grammar(store):
    data = store.get("t:2").to_dict()
    data["parents"] = ["t@1"]
    data["tags"] = data.pop("aliases")
    old = mp.DatasetVersion.from_dict(data)
    assert old.parents == ("t:1",)
    assert old == store.get("t:2")
    assert old.aliases == ()
    data["parents"], data["tags"] = ["t@1", "other:4", "odd@name"], ["first"]
    again = mp.DatasetVersion.from_dict(data)
    assert (again.parents, again.aliases) == (("t:1", "other:4", "odd@name"), ("first",))


def test_cli_takes_the_new_grammar_and_the_old_with_a_warning(store, tmp_path, capsys):
    root = store.root
    assert main(["data", "show", "t:1", "--store", root]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "t:1"
    assert "aliases: first" in out
    assert main(["data", "show", "t@first", "--store", root, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 1
    assert main(["data", "diff", "t:1", "t@first", "--store", root, "--exit-code"]) == 0
    capsys.readouterr()
    with pytest.warns(DeprecationWarning, match="write 't:2'"):
        assert main(["data", "show", "t@2", "--store", root, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["version"] == 2
    path = tmp_path / "x.csv"
    pd.DataFrame({"a": [7]}).to_csv(path, index=False)
    argv = ["data", "commit", str(path), "--name", "t", "--store", root, "--json"]
    assert main([*argv, "--tag", "old", "--alias", "new", "--parent", "t:1"]) == 0
    made = json.loads(capsys.readouterr().out)
    assert (made["aliases"], made["parents"]) == (["new", "old"], ["t:1"])
    assert main(["data", "log", "t", "--store", root, "--limit", "2"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["t:4", "t:3"]
    assert main(["data", "show", "t:1@x", "--store", root]) == 2
    assert "Malformed dataset reference" in capsys.readouterr().err
