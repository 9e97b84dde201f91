"""Initialises layers 0 and 1 of promptscope-tiny-long (Llama: RMSNorm, RoPE in the rotate-half layout, one
key/value head per layer) as a two-token induction circuit, the mechanism that retrieves a word by what preceded
it ("The code word is" ... "The code word is" -> the word that followed the first time). Gradient descent on
this small model and a CPU budget finds that circuit only after a long plateau; built in from the start, training
refines it and learns everything else. All weights stay trainable.

Residual stream (hidden 128): dim 0 holds a constant (the same value in every token embedding), dims T = 1..42
the token's own embedding, P1 = 43..84 the previous token's, P2 = 85..126 the one before that.

  layer 0  queries and keys read only the constant dim, so RoPE alone sets the score: query head h is
           A·e^{-i·w·(h+1)} and the key 1 in the highest-frequency rotary pairs, so head h attends to the token
           h + 1 positions back; the shared value copies T, the output writes head 0 into P1 and head 1 into P2.
  layer 1  head 0 matches (this token, the previous one) against (P1, P2) of every earlier position, in the
           lowest-frequency rotary pairs (which turn by < 0.4 rad over 2,048 positions, so the match does not
           depend on the distance), and copies that position's T into T: the token that followed the same two
           tokens earlier becomes the prediction.
"""
import math

import torch

T, P1, P2 = slice(1, 43), slice(43, 85), slice(85, 127)
WIDTH = 42


@torch.no_grad()
def build_induction_circuit(model, cfg, seed=0, const=2.8, prev_pairs=10, sharpness=20.0, match=0.6, copy=4.0,
                            out_scale=0.3):
    g = torch.Generator().manual_seed(seed)
    d, eps = cfg["hidden_size"], cfg["rms_norm_eps"]
    emb = model.model.embed_tokens.weight
    emb.zero_()
    emb[:, T] = torch.randn(emb.size(0), WIDTH, generator=g)
    emb[:, 0] = const
    a0, a1 = model.model.layers[0].self_attn, model.model.layers[1].self_attn
    hd = a0.head_dim
    half = hd // 2
    inv = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, hd, 2).float() / hd))
    rms0 = math.sqrt((const ** 2 + WIDTH) / d)  # typical RMS of a token embedding
    normed = const / rms0

    # layer 0: positional heads (score per pair = |zq|·|zk|·normed² / sqrt(hd))
    for w in (a0.q_proj.weight, a0.k_proj.weight, a0.v_proj.weight, a0.o_proj.weight):
        w.zero_()
    amp = sharpness * math.sqrt(hd) / normed ** 2
    for j in range(prev_pairs):
        a0.k_proj.weight[j, 0] = 1.0
        for h in range(a0.heads):
            ang = -float(inv[j]) * (h + 1)
            a0.q_proj.weight[h * hd + j, 0] = amp * math.cos(ang)
            a0.q_proj.weight[h * hd + j + half, 0] = amp * math.sin(ang)
    a0.v_proj.weight[:WIDTH, T] = torch.eye(WIDTH) * rms0  # value = the token's embedding (undoing the norm)
    a0.o_proj.weight[P1, :WIDTH] = torch.eye(WIDTH)
    a0.o_proj.weight[P2, hd:hd + WIDTH] = torch.eye(WIDTH)

    # layer 1: the induction head (head 0); head 1 is left to training
    rms1 = math.sqrt((const ** 2 + 3 * WIDTH) / d)
    a1.k_proj.weight.zero_()
    a1.q_proj.weight[:hd].zero_()
    a1.v_proj.weight.zero_()
    a1.o_proj.weight[:, :hd].zero_()
    slow = list(range(half - 1, -1, -1))  # rotary pairs from the slowest
    ga, gb = slow[:9], slow[9:17]  # 18 dims match T against P1, 16 dims match P1 against P2
    for pairs, q_slot, k_slot in ((ga, T, P1), (gb, P1, P2)):
        dims = pairs + [p + half for p in pairs]
        r = torch.linalg.qr(torch.randn(WIDTH, len(dims), generator=g))[0].T  # orthonormal rows
        # score = q·k / sqrt(hd) on normed inputs: match · |R e|² per matching slot
        scale = math.sqrt(match * math.sqrt(hd)) * rms1
        a1.q_proj.weight[dims, q_slot] = r * scale
        a1.k_proj.weight[dims, k_slot] = r * scale
    a1.v_proj.weight[:WIDTH, T] = torch.eye(WIDTH) * rms1
    a1.o_proj.weight[T, :WIDTH] = torch.eye(WIDTH) * copy
    model.model.norm.weight.fill_(out_scale)
    return normed
