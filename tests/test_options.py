"""The option tables: one row makes a parser option and its default; the rules that tie options; the options of
a checkpoint written by an older seqnn."""

import re

import pytest

from seqnn.app import cli, options
from seqnn.app.options import DEFAULTS, EVALUATE, SAMPLE, TRAIN, RunError, new_options, saved_options


@pytest.mark.parametrize("command, table", [("train", TRAIN), ("sample", SAMPLE), ("evaluate", EVALUATE)])
def test_every_row_is_an_option_of_its_command_with_its_default_in_the_help(command, table, capsys):
    parser = cli.build_parser()
    with pytest.raises(SystemExit):
        parser.parse_args([command, "--help"])
    shown = " ".join(capsys.readouterr().out.split())                    # argparse wraps the help text
    given = parser.parse_args([command, "x"] if command != "train" else [command])
    for row in table:
        flag = "--" + row.name.replace("_", "-")
        assert flag in shown, flag
        if row.default not in (None, False) and "default:" not in row.help:       # a switch has none
            assert re.search(rf"{re.escape(flag)} .*?\(default: {re.escape(str(row.default))}\)", shown), flag
        # train: nothing given is None, so that a resumed run knows what was asked; the others take the default
        assert getattr(given, row.name) == (None if command == "train" else row.default), row.name
    assert DEFAULTS == {row.name: row.default for row in TRAIN}


def test_a_new_run_takes_the_defaults_and_the_rules_that_tie_them():
    opts = new_options({})
    assert opts["lr"] == 5e-3 and opts["epochs"] == 20 and opts["dropout"] == 0.3, "adam's lr, 20 epochs, 0.3"
    assert new_options({"optimizer": "sgd", "layers": 1, "steps": 5}) == {
        **DEFAULTS, "optimizer": "sgd", "lr": 1.0, "layers": 1, "dropout": 0.0, "steps": 5}
    with pytest.raises(RunError, match="--dropout acts between stacked layers"):
        new_options({"layers": 1, "dropout": 0.2})
    with pytest.raises(TypeError, match=r"given: unknown options \['hiden'\]"):
        new_options({"hiden": 3})


def test_sizes_have_upper_bounds_that_say_why():
    import argparse
    assert options.hidden_size("16384") == 16384 and options.layer_count("64") == 64
    for read, text, why in ((options.hidden_size, "16385", r"in \[1, 16,384\] \(one LSTM layer of 16,384 holds 2.1 "
                                                           "billion weights"),
                            (options.layer_count, "100000", r"in \[1, 64\] \(every layer adds a time loop")):
        with pytest.raises(argparse.ArgumentTypeError, match=why):
            read(text)


def test_a_checkpoint_holds_every_option_of_its_run_or_is_refused_naming_what_it_lacks():
    saved = new_options({"steps": 9})
    assert saved_options(saved, "run/last.npz") == saved
    assert saved_options({**saved, "extra": 1}, "run/last.npz") == saved, "only the options of a run are read"
    with pytest.raises(RunError, match=r"run/last.npz: its options lack --seq-len, --eval-every, so it was not "
                                       r"written by this version of seqnn train; start a new run"):
        saved_options({k: v for k, v in saved.items() if k not in ("seq_len", "eval_every")}, "run/last.npz")
    with pytest.raises(RunError, match="its options are not a mapping"):
        saved_options(["x"], "run/last.npz")
