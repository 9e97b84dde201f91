"""BERT for sequence classification in plain PyTorch, parameter names as in Hugging Face's
BertForSequenceClassification (bert.embeddings.*, bert.encoder.layer.{i}.*, bert.pooler.dense, classifier).
Post-LayerNorm encoder, exact (erf) GELU, learned absolute positions, token type embeddings."""
import math

import torch
import torch.nn as nn


class BertEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"], padding_idx=c["pad_token_id"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])


class BertSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        h = c["hidden_size"]
        self.n = c["num_attention_heads"]
        self.d = h // self.n
        self.query = nn.Linear(h, h)
        self.key = nn.Linear(h, h)
        self.value = nn.Linear(h, h)

    def split(self, t):
        return t.view(t.size(0), t.size(1), self.n, self.d).transpose(1, 2)

    def forward(self, x, allowed):
        q, k, v = self.split(self.query(x)), self.split(self.key(x)), self.split(self.value(x))
        s = torch.matmul(q, k.transpose(-1, -2)) / math.sqrt(self.d)
        s = torch.where(allowed, s, torch.tensor(torch.finfo(s.dtype).min, dtype=s.dtype))
        y = torch.matmul(torch.softmax(s, -1), v).transpose(1, 2)
        return y.reshape(x.size(0), x.size(1), -1)


class BertSelfOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])


class BertAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.self = BertSelfAttention(c)
        self.output = BertSelfOutput(c)


class BertIntermediate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["intermediate_size"])


class BertOutput(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["intermediate_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])


class BertLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.attention = BertAttention(c)
        self.intermediate = BertIntermediate(c)
        self.output = BertOutput(c)

    def forward(self, x, allowed):
        a = self.attention.output.dense(self.attention.self(x, allowed))
        x = self.attention.output.LayerNorm(a + x)
        i = nn.functional.gelu(self.intermediate.dense(x))
        return self.output.LayerNorm(self.output.dense(i) + x)


class BertEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(c) for _ in range(c["num_hidden_layers"])])


class BertPooler(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.dense = nn.Linear(c["hidden_size"], c["hidden_size"])


class BertModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = BertEmbeddings(c)
        self.encoder = BertEncoder(c)
        self.pooler = BertPooler(c)


class BertForSequenceClassification(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = BertModel(c)
        self.classifier = nn.Linear(c["hidden_size"], c["num_labels"])
        for mod in self.modules():
            if isinstance(mod, (nn.Linear, nn.Embedding)):
                nn.init.normal_(mod.weight, std=0.02)
            if isinstance(mod, nn.Linear):
                nn.init.zeros_(mod.bias)
        self.dropout = nn.Dropout(c.get("hidden_dropout_prob", 0.1))

    def forward(self, input_ids, attention_mask, token_type_ids, inputs_embeds=None):
        e = self.bert.embeddings
        if inputs_embeds is None:
            inputs_embeds = e.word_embeddings(input_ids)
        seq = inputs_embeds.size(1)
        pos = torch.arange(seq, device=inputs_embeds.device).unsqueeze(0)
        x = inputs_embeds + e.position_embeddings(pos) + e.token_type_embeddings(token_type_ids)
        x = self.dropout(e.LayerNorm(x))
        allowed = attention_mask.bool().unsqueeze(1).unsqueeze(2)
        for layer in self.bert.encoder.layer:
            x = self.dropout(layer(x, allowed))
        pooled = torch.tanh(self.bert.pooler.dense(x[:, 0]))
        return self.classifier(self.dropout(pooled))
