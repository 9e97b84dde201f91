"""Exports a decoder with the Hugging Face ONNX signature (input_ids, attention_mask, position_ids,
past_key_values.{i}.key/value → logits, present.{i}.key/value), shared by the test-model builders."""
import os

import torch

import onnx_util
from gpt2 import OnnxDecoderWrapper


def export_decoder(model, path, layers, kv_heads, head_dim, tied_name):
    wrapper = OnnxDecoderWrapper(model).eval()
    b, s, p = 2, 3, 2
    ids = torch.randint(0, 100, (b, s))
    mask = torch.ones(b, p + s, dtype=torch.long)
    pos = torch.arange(p, p + s).unsqueeze(0).expand(b, s).contiguous()
    past, in_names, out_names = [], ["input_ids", "attention_mask", "position_ids"], ["logits"]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "past_sequence_length + sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"},
            "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(layers):
        for kv in ("key", "value"):
            past.append(torch.randn(b, kv_heads, p, head_dim))
            n, o = f"past_key_values.{i}.{kv}", f"present.{i}.{kv}"
            in_names.append(n)
            out_names.append(o)
            axes[n] = {0: "batch_size", 2: "past_sequence_length"}
            axes[o] = {0: "batch_size", 2: "past_sequence_length + sequence_length"}
    # Written beside the target and renamed, so an interrupted build never leaves a half-written model.
    tmp = path + ".tmp"
    with torch.no_grad():
        torch.onnx.export(wrapper, (ids, mask, pos, *past), tmp, input_names=in_names, output_names=out_names,
                          dynamic_axes=axes, opset_version=14, do_constant_folding=True)
    onnx_util.untie_folded_transposes(tmp, tied_name)
    os.replace(tmp, path)
