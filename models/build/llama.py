"""Llama written in plain PyTorch (the architecture of SmolLM2 / Llama 2 / Mistral without sliding windows).

Parameter names follow Hugging Face's LlamaForCausalLM (model.embed_tokens, model.layers.{i}.input_layernorm /
self_attn.{q,k,v,o}_proj / post_attention_layernorm / mlp.{gate,up,down}_proj, model.norm, lm_head): RMSNorm,
rotary position embeddings in the rotate-half layout, grouped-query attention, SwiGLU, no biases.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


def rotate_half(x):
    h = x.size(-1) // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


class LlamaAttention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.heads = cfg["num_attention_heads"]
        self.kv_heads = cfg["num_key_value_heads"]
        self.head_dim = cfg["hidden_size"] // self.heads
        d = cfg["hidden_size"]
        self.q_proj = nn.Linear(d, self.heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(d, self.kv_heads * self.head_dim, bias=False)
        self.v_proj = nn.Linear(d, self.kv_heads * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.heads * self.head_dim, d, bias=False)

    def forward(self, x, cos, sin, allowed, past_key=None, past_value=None):
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.kv_heads, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        if past_key is not None:
            k = torch.cat([past_key, k], dim=2)
            v = torch.cat([past_value, v], dim=2)
        rep = self.heads // self.kv_heads
        kr = k.unsqueeze(2).expand(b, self.kv_heads, rep, k.size(2), self.head_dim).reshape(b, self.heads, k.size(2), self.head_dim)
        vr = v.unsqueeze(2).expand(b, self.kv_heads, rep, v.size(2), self.head_dim).reshape(b, self.heads, v.size(2), self.head_dim)
        scores = torch.matmul(q, kr.transpose(-1, -2)) / math.sqrt(self.head_dim)
        scores = torch.where(allowed, scores, torch.tensor(torch.finfo(scores.dtype).min, dtype=scores.dtype))
        probs = torch.softmax(scores, dim=-1)
        if getattr(self, "keep_probs", False):  # training with a loss on where a head attends
            self.probs = probs
        y = torch.matmul(probs, vr)
        return self.o_proj(y.transpose(1, 2).reshape(b, s, -1)), k, v


class LlamaMLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        d, i = cfg["hidden_size"], cfg["intermediate_size"]
        self.gate_proj = nn.Linear(d, i, bias=False)
        self.up_proj = nn.Linear(d, i, bias=False)
        self.down_proj = nn.Linear(i, d, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


class LlamaBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.input_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.self_attn = LlamaAttention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])
        self.mlp = LlamaMLP(cfg)

    def forward(self, x, cos, sin, allowed, pk=None, pv=None):
        a, k, v = self.self_attn(self.input_layernorm(x), cos, sin, allowed, pk, pv)
        x = x + a
        return x + self.mlp(self.post_attention_layernorm(x)), k, v


class LlamaModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg["vocab_size"], cfg["hidden_size"])
        self.layers = nn.ModuleList([LlamaBlock(cfg) for _ in range(cfg["num_hidden_layers"])])
        self.norm = RMSNorm(cfg["hidden_size"], cfg["rms_norm_eps"])


class LlamaForCausalLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = LlamaModel(cfg)
        self.lm_head = nn.Linear(cfg["hidden_size"], cfg["vocab_size"], bias=False)
        self.lm_head.weight = self.model.embed_tokens.weight  # tied
        std = cfg.get("initializer_range", 0.02)
        for name, p in self.named_parameters():
            if p.dim() == 2:
                nn.init.normal_(p, std=std)
        head_dim = cfg["hidden_size"] // cfg["num_attention_heads"]
        inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, head_dim, 2).float() / head_dim))
        t = torch.arange(cfg["max_position_embeddings"]).float()
        freqs = torch.outer(t, inv)
        emb = torch.cat([freqs, freqs], dim=-1)
        self.register_buffer("cos_cached", emb.cos(), persistent=False)
        self.register_buffer("sin_cached", emb.sin(), persistent=False)

    def hidden_states(self, input_ids, attention_mask, position_ids, past=None, inputs_embeds=None, allowed=None):
        """allowed: an explicit [b, 1, seq, total] key mask (training with packed rows); default causal & mask."""
        m = self.model
        x = m.embed_tokens(input_ids) if inputs_embeds is None else inputs_embeds
        cos = self.cos_cached[position_ids].unsqueeze(1)  # [b, 1, s, head_dim]
        sin = self.sin_cached[position_ids].unsqueeze(1)
        seq, total = x.size(1), attention_mask.size(1)
        k_pos = torch.arange(total, device=x.device)
        q_pos = torch.arange(seq, device=x.device) + (total - seq)
        causal = k_pos.unsqueeze(0) <= q_pos.unsqueeze(1)
        if allowed is None:
            allowed = causal.unsqueeze(0).unsqueeze(0) & attention_mask.bool().unsqueeze(1).unsqueeze(2)
        presents = []
        for i, block in enumerate(m.layers):
            pk, pv = (past[i] if past is not None else (None, None))
            x, k, v = block(x, cos, sin, allowed, pk, pv)
            presents.append((k, v))
        return m.norm(x), presents

    def forward(self, input_ids, attention_mask, position_ids, past=None, inputs_embeds=None):
        x, presents = self.hidden_states(input_ids, attention_mask, position_ids, past, inputs_embeds)
        b, seq = x.size(0), x.size(1)
        logits = F.linear(x.reshape(-1, x.size(2)), self.lm_head.weight).view(b, seq, -1)
        return logits, presents
