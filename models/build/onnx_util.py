import numpy as np
import onnx
from onnx import helper, numpy_helper


def untie_folded_transposes(path, weight_name):
    """Constant folding turns `x @ W.T` for the tied embedding into a second, transposed copy of W.
    Replace that copy by a Transpose node reading W, so the file stores the tied weights once."""
    m = onnx.load(path)
    g = m.graph
    inits = {i.name: i for i in g.initializer}
    w = numpy_helper.to_array(inits[weight_name])
    for init in list(g.initializer):
        if init.name == weight_name or list(init.dims) != [w.shape[1], w.shape[0]]:
            continue
        if np.array_equal(numpy_helper.to_array(init), w.T):
            g.initializer.remove(init)
            node = helper.make_node("Transpose", [weight_name], [init.name], perm=[1, 0],
                                    name="tied_lm_head_transpose")
            g.node.insert(0, node)
    # name the weights as in the PyTorch module (strip the export wrapper's "model." prefix)
    renames = {i.name: i.name[len("model."):] for i in g.initializer if i.name.startswith("model.")}
    for i in g.initializer:
        i.name = renames.get(i.name, i.name)
    for n in g.node:
        for k, name in enumerate(n.input):
            if name in renames:
                n.input[k] = renames[name]
    onnx.checker.check_model(m)
    onnx.save(m, path)


def store_weights_fp16(path, min_elements=1024):
    """Seed variants are stored compactly: every large float32 weight becomes a float16 initializer read
    through Cast(to=float), so the file is half the size while all arithmetic stays in float32."""
    m = onnx.load(path)
    g = m.graph
    casts = []
    for init in g.initializer:
        if init.data_type != onnx.TensorProto.FLOAT or int(np.prod(init.dims)) < min_elements:
            continue
        w = numpy_helper.to_array(init)
        name = init.name
        init.CopyFrom(numpy_helper.from_array(w.astype(np.float16), name + ".fp16"))
        casts.append(helper.make_node("Cast", [name + ".fp16"], [name], to=onnx.TensorProto.FLOAT,
                                      name=name + ".to_float"))
    for n in reversed(casts):
        g.node.insert(0, n)
    onnx.checker.check_model(m)
    onnx.save(m, path)
