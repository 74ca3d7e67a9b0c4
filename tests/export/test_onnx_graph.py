import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

from astrokeras.export.onnx_graph import fuse_prelu


def _prelu_as_tf2onnx_writes_it(extra_use=False):
    """Relu(x) + Mul(Relu(Neg(x)), -alpha) on x of shape (N, 3, 2, 2)."""
    alpha = np.array([0.1, -0.3, 0.7], np.float32).reshape(3, 1, 1)
    nodes = [
        helper.make_node("Relu", ["x"], ["pos"]),
        helper.make_node("Neg", ["x"], ["negx"]),
        helper.make_node("Relu", ["negx"], ["rneg"]),
        helper.make_node("Mul", ["rneg", "minus_alpha"], ["scaled"]),
        helper.make_node("Add", ["pos", "scaled"], ["y"]),
    ]
    outputs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, 2, 2])]
    if extra_use:  # an intermediate tensor is also a graph output: must not be rewritten
        outputs.append(helper.make_tensor_value_info("rneg", TensorProto.FLOAT,
                                                     ["batch", 3, 2, 2]))
    graph = helper.make_graph(
        nodes, "prelu",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, 2, 2])], outputs,
        initializer=[numpy_helper.from_array(-alpha, "minus_alpha")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)]), alpha


def _run(proto, x):
    session = ort.InferenceSession(proto.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    return session.run(["y"], {"x": x})[0]


def test_prelu_pattern_becomes_one_prelu_node_with_the_same_values():
    proto, alpha = _prelu_as_tf2onnx_writes_it()
    x = np.random.default_rng(0).normal(size=(4, 3, 2, 2)).astype(np.float32)
    before = _run(proto, x)
    assert fuse_prelu(proto) == 1
    onnx.checker.check_model(proto)
    assert [node.op_type for node in proto.graph.node] == ["PRelu"]
    assert [init.name for init in proto.graph.initializer] == ["y/prelu_slope"]
    np.testing.assert_allclose(_run(proto, x), before, atol=1e-7)
    np.testing.assert_allclose(before, np.where(x >= 0, x, alpha * x), atol=1e-6)


def test_pattern_with_a_shared_intermediate_is_left_alone():
    proto, _ = _prelu_as_tf2onnx_writes_it(extra_use=True)
    assert fuse_prelu(proto) == 0
    assert len(proto.graph.node) == 5
