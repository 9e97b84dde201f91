"""Writes a GPT-2-shaped decoder with ~135M random parameters as ONNX (Hugging Face decoder signature), for
timing graph rewrites on a model of realistic size. Weights are random: never use it for quality.
Usage: /usr/bin/python3 test/bench/largeModel.py OUT_DIR
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "models", "build"))
import gpt2  # noqa: E402

CFG = {"vocab_size": 64000, "n_positions": 1024, "n_embd": 768, "n_layer": 12, "n_head": 12, "n_inner": None,
       "layer_norm_epsilon": 1e-5}


def main(out):
    torch.manual_seed(0)
    model = gpt2.GPT2LMHeadModel(CFG).eval()
    params = sum(p.numel() for p in model.parameters())
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    L, H, D = CFG["n_layer"], CFG["n_head"], CFG["n_embd"] // CFG["n_head"]
    b, s, p = 1, 3, 2
    ids = torch.randint(0, 100, (b, s))
    mask = torch.ones(b, p + s, dtype=torch.long)
    pos = torch.arange(p, p + s).unsqueeze(0)
    past, names_in, names_out = [], ["input_ids", "attention_mask", "position_ids"], ["logits"]
    axes = {"input_ids": {0: "batch_size", 1: "sequence_length"},
            "attention_mask": {0: "batch_size", 1: "past_sequence_length + sequence_length"},
            "position_ids": {0: "batch_size", 1: "sequence_length"}, "logits": {0: "batch_size", 1: "sequence_length"}}
    for i in range(L):
        for kv in ("key", "value"):
            past.append(torch.randn(b, H, p, D))
            names_in.append(f"past_key_values.{i}.{kv}")
            names_out.append(f"present.{i}.{kv}")
            axes[names_in[-1]] = {0: "batch_size", 2: "past_sequence_length"}
            axes[names_out[-1]] = {0: "batch_size", 2: "past_sequence_length + sequence_length"}
    with torch.no_grad():
        torch.onnx.export(gpt2.OnnxDecoderWrapper(model), (ids, mask, pos, *past), os.path.join(out, "onnx", "model.onnx"),
                          input_names=names_in, output_names=names_out, dynamic_axes=axes, opset_version=14,
                          do_constant_folding=True)
    with open(os.path.join(out, "params.json"), "w") as f:
        json.dump({"parameters": params}, f)


if __name__ == "__main__":
    main(sys.argv[1])
