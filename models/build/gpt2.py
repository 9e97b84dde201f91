"""GPT-2 written in plain PyTorch.

Parameter names follow Hugging Face's GPT2LMHeadModel exactly (transformer.wte, transformer.wpe,
transformer.h.{i}.ln_1 / attn.c_attn / attn.c_proj / ln_2 / mlp.c_fc / mlp.c_proj, transformer.ln_f,
lm_head tied to wte), so the weights are a genuine GPT-2: learned position embeddings, pre-LayerNorm
blocks, GELU with the tanh approximation ("gelu_new"), Conv1D layers storing weights as [in, out].
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * torch.pow(x, 3.0))))


class Conv1D(nn.Module):
    """HF's Conv1D: a linear layer whose weight is stored transposed, shape [in, out]."""

    def __init__(self, nf, nx):
        super().__init__()
        self.nf = nf
        self.weight = nn.Parameter(torch.empty(nx, nf))
        self.bias = nn.Parameter(torch.zeros(nf))
        nn.init.normal_(self.weight, std=0.02)

    def forward(self, x):
        return torch.matmul(x, self.weight) + self.bias


class GPT2Attention(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.n_head = cfg["n_head"]
        self.n_embd = cfg["n_embd"]
        self.head_dim = self.n_embd // self.n_head
        self.c_attn = Conv1D(3 * self.n_embd, self.n_embd)
        self.c_proj = Conv1D(self.n_embd, self.n_embd)

    def _split(self, t):
        b, s = t.size(0), t.size(1)
        return t.view(b, s, self.n_head, self.head_dim).transpose(1, 2)

    def forward(self, x, allowed, past_key=None, past_value=None):
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q, k, v = self._split(q), self._split(k), self._split(v)
        if past_key is not None:
            k = torch.cat([past_key, k], dim=2)
            v = torch.cat([past_value, v], dim=2)
        scores = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.head_dim)
        # A key that is not allowed (future position or attention_mask == 0) gets the most negative
        # float: no -inf, so a query that may see nothing gets a uniform row instead of NaN.
        scores = torch.where(allowed, scores, torch.tensor(torch.finfo(scores.dtype).min, dtype=scores.dtype))
        probs = torch.softmax(scores, dim=-1)
        y = torch.matmul(probs, v)
        b, s = x.size(0), x.size(1)
        y = y.transpose(1, 2).reshape(b, s, self.n_embd)
        return self.c_proj(y), k, v


class GPT2MLP(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        inner = cfg.get("n_inner") or 4 * cfg["n_embd"]
        self.c_fc = Conv1D(inner, cfg["n_embd"])
        self.c_proj = Conv1D(cfg["n_embd"], inner)

    def forward(self, x):
        return self.c_proj(gelu_new(self.c_fc(x)))


class GPT2Block(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        eps = cfg["layer_norm_epsilon"]
        self.ln_1 = nn.LayerNorm(cfg["n_embd"], eps=eps)
        self.attn = GPT2Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg["n_embd"], eps=eps)
        self.mlp = GPT2MLP(cfg)

    def forward(self, x, allowed, past_key=None, past_value=None):
        a, k, v = self.attn(self.ln_1(x), allowed, past_key, past_value)
        x = x + a
        x = x + self.mlp(self.ln_2(x))
        return x, k, v


class GPT2Model(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.wte = nn.Embedding(cfg["vocab_size"], cfg["n_embd"])
        self.wpe = nn.Embedding(cfg["n_positions"], cfg["n_embd"])
        self.h = nn.ModuleList([GPT2Block(cfg) for _ in range(cfg["n_layer"])])
        self.ln_f = nn.LayerNorm(cfg["n_embd"], eps=cfg["layer_norm_epsilon"])
        nn.init.normal_(self.wte.weight, std=0.02)
        nn.init.normal_(self.wpe.weight, std=0.01)


class GPT2LMHeadModel(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.transformer = GPT2Model(cfg)
        self.lm_head = nn.Linear(cfg["n_embd"], cfg["vocab_size"], bias=False)
        self.lm_head.weight = self.transformer.wte.weight  # tied
        # GPT-2's scaled init of the residual projections
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * cfg["n_layer"]))

    def forward(self, input_ids, attention_mask, position_ids, past=None, inputs_embeds=None):
        x, presents = self.hidden_states(input_ids, attention_mask, position_ids, past, inputs_embeds)
        b, seq = x.size(0), x.size(1)
        # lm_head tied to wte; written as a 2-D product so the export keeps a single copy of the weights
        logits = F.linear(x.reshape(-1, x.size(2)), self.lm_head.weight).view(b, seq, -1)
        return logits, presents

    def hidden_states(self, input_ids, attention_mask, position_ids, past=None, inputs_embeds=None, allowed=None):
        """past: list of (key, value) with shape [batch, n_head, past_len, head_dim] or None.

        attention_mask covers past + current positions ([batch, past_len + seq_len]); a 0 hides that key
        from every query. Positions come only from position_ids. Returns logits and the presents.
        """
        t = self.transformer
        if inputs_embeds is None:
            inputs_embeds = t.wte(input_ids)
        x = inputs_embeds + t.wpe(position_ids)
        seq = x.size(1)
        total = attention_mask.size(1)
        k_pos = torch.arange(total, device=x.device)
        q_pos = torch.arange(seq, device=x.device) + (total - seq)
        causal = k_pos.unsqueeze(0) <= q_pos.unsqueeze(1)  # [seq, total]
        if allowed is None:  # (training may pass its own [batch, 1, seq, total] mask for packed sequences)
            allowed = causal.unsqueeze(0).unsqueeze(0) & attention_mask.bool().unsqueeze(1).unsqueeze(2)
        presents = []
        for i, block in enumerate(t.h):
            pk, pv = (past[i] if past is not None else (None, None))
            x, k, v = block(x, allowed, pk, pv)
            presents.append((k, v))
        return t.ln_f(x), presents


class OnnxDecoderWrapper(nn.Module):
    """Flat signature of HF's ONNX decoder exports: (input_ids, attention_mask, position_ids,
    past_key_values.0.key, past_key_values.0.value, ...) -> (logits, present.0.key, present.0.value, ...)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids, *past_flat):
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        logits, presents = self.model(input_ids, attention_mask, position_ids, past)
        out = [logits]
        for k, v in presents:
            out += [k, v]
        return tuple(out)
