"""The head, decided while lowering: the last dense of the network and of each aux head
emits logits whatever `defaults:` says, and an activation written on it is a warning."""

from __future__ import annotations

import pytest

from netspec.api import check_text
from netspec.ir import Activation, Dense
from tests.helpers import compile_spec, diagnose, position, spec

DENSE_BN = "defaults:\n  dense bn\n"


def test_defaults_dense_bn_leaves_the_classifier_ending_in_its_batch_norm() -> None:
    network = compile_spec(DENSE_BN + "gap\ndense 16\ndense classes\n")
    classifier = network.by_name["dense2/dense"]
    assert isinstance(classifier, Dense) and classifier.activation == "linear"
    assert (network.output, network.by_name["dense2"].kind) == ("dense2", "bn")
    # the hidden dense keeps the defaults: linear dense, batch norm, then relu
    hidden = network.by_name["dense1"]
    assert isinstance(hidden, Activation) and hidden.function == "relu"
    assert [layer.name for layer in network.layers if layer.part_of == "dense2"] == ["dense2/dense"]


def test_every_head_emits_logits_wherever_its_last_dense_is_written() -> None:
    body = (
        "defaults:\n  dense tanh\n"
        "module classifier:\n  dense classes\n"
        "conv 1x1 8\n"
        "aux side:\n  gap\n  repeat 2:\n    dense classes\n"
        "head:\n  gap\n  branch: dense 8\n  branch: dense 8\n  classifier out\n"
    )
    network = compile_spec(body)
    activations = {
        layer.name: layer.activation for layer in network.layers if isinstance(layer, Dense)
    }
    assert activations == {
        "side/dense1": "tanh",  # the first pass of the repeat does not end the head
        "side/dense2": "linear",
        "head/g1/b1/dense1": "tanh",  # inside a branch: a merge ends the group
        "head/g1/b2/dense1": "tanh",
        "out": "linear",  # the last statement of the module that ends the network
    }
    assert network.output == "out"


CASES = [
    ("gap\ndense classes relu\n", "relu"),
    ("gap\ndense classes bn softmax\n", "softmax"),
    ("gap\ndense classes\nsigmoid\n", "sigmoid"),
    ("conv 1x1 8\naux side:\n  gap\n  dense classes tanh\ngap\ndense classes\n", "tanh"),
]


@pytest.mark.parametrize(("body", "word"), CASES)
def test_an_activation_written_on_a_head_is_a_warning(body: str, word: str) -> None:
    text = spec(body)
    assert diagnose(body) == [("logits-activation", *position(text, word))]
    # what was written stays: the warning says what training will do with it
    network = compile_spec(body)
    written = {
        getattr(layer, "activation", getattr(layer, "function", "")) for layer in network.layers
    }
    assert word in written


def test_the_warning_names_the_head() -> None:
    (aux,) = check_text(spec(CASES[3][0])).diagnostics
    assert (
        "aux head 'side'" in aux.message
        and aux.hint == "drop `tanh`: the head emits logits without it"
    )


def test_linear_on_a_head_and_an_allowed_activation_say_nothing() -> None:
    assert diagnose("gap\ndense classes linear\n") == []
    allowed = spec("gap\ndense classes sigmoid  # allow: logits-activation\n")
    assert check_text(allowed).diagnostics == ()
