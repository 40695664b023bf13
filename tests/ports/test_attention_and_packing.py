"""Ports of the attention and variable-length idioms of the tutorials: nn.MultiheadAttention
(padding, causal, float and per-head masks, kdim / vdim) and F.scaled_dot_product_attention used
directly, and a classifier over padded, packed and unpacked LSTM batches (see harness.py for how
a port test works)."""

import math

import numpy as np
import pytest
from harness import assert_agree, run_both


# --- nn.MultiheadAttention and F.scaled_dot_product_attention used directly ------------------
def attention_usage(torch, nn, F, optim, data, twin):
    rng = np.random.default_rng(9)
    N, L, S, E, H = 3, 4, 5, 8, 2
    leaf = lambda *shape: torch.tensor(rng.normal(size=shape), requires_grad=True)  # noqa: E731
    query, key, value = leaf(N, L, E), leaf(N, S, E), leaf(N, S, E)

    mha = twin.model(nn.MultiheadAttention(E, H, batch_first=True))
    key_padding_mask = torch.zeros(N, S, dtype=torch.bool)
    key_padding_mask[0, 3:] = True
    key_padding_mask[2, 4] = True
    out_pad, w_pad = mha(query, key, value, key_padding_mask=key_padding_mask)
    causal = torch.triu(torch.ones(L, S, dtype=torch.bool), diagonal=1)
    out_causal, w_heads = mha(query, key, value, attn_mask=causal, need_weights=True,
                              average_attn_weights=False)
    float_mask = torch.zeros(L, S).masked_fill(causal, float("-inf"))
    out_float, _ = mha(query, key, value, attn_mask=float_mask)
    per_head = torch.tensor(rng.normal(size=(N * H, L, S)))
    float_padding = torch.zeros(N, S).masked_fill(key_padding_mask, float("-inf"))
    out_3d, _ = mha(query, key, value, attn_mask=per_head, key_padding_mask=float_padding)
    out_self, none_weights = mha(query, query, query, need_weights=False)

    seq_first = twin.model(nn.MultiheadAttention(E, H, kdim=5, vdim=7, bias=False))
    k2, v2 = leaf(S, N, 5), leaf(S, N, 7)
    out_kv, w_kv = seq_first(query.transpose(0, 1), k2, v2)

    q4, k4, v4 = leaf(N, H, L, E), leaf(N, H, L, E), leaf(N, H, L, E)
    sdpa = F.scaled_dot_product_attention(q4, k4, v4, is_causal=True)
    mask = torch.ones(L, L, dtype=torch.bool).tril(diagonal=0)
    scores = q4 @ k4.transpose(-2, -1) / math.sqrt(q4.size(-1))
    manual = torch.softmax(scores.masked_fill(~mask, float("-inf")), dim=-1) @ v4
    sdpa_scaled = F.scaled_dot_product_attention(q4, k4, v4, attn_mask=mask, scale=0.5)

    outputs = [out_pad, w_pad, out_causal, w_heads, out_float, out_3d, out_self, out_kv, w_kv,
               sdpa, sdpa_scaled]
    total = sum((o * torch.tensor(rng.normal(size=tuple(o.shape)))).sum() for o in outputs)
    total.backward()
    grads = {name: p.grad for name, p in mha.named_parameters()}
    grads.update({f"kv.{name}": p.grad for name, p in seq_first.named_parameters()})
    grads.update(query=query.grad, key=key.grad, value=value.grad, k2=k2.grad, v2=v2.grad,
                 q4=q4.grad, k4=k4.grad, v4=v4.grad)
    return {"outputs": outputs, "grads": grads, "none_weights": none_weights,
            "sdpa_vs_manual": (sdpa - manual).abs().max().item(),
            "masked_weight": w_pad[0, :, 3:].abs().max().item()}


def test_attention_usage_matches_torch():
    expected, actual = run_both(attention_usage, np.float64)
    assert_agree(expected, actual, np.float64)
    assert actual["sdpa_vs_manual"] < 1e-12 and actual["masked_weight"] == 0.0


# --- Variable-length batches: pad, pack, LSTM, unpack ----------------------------------------

VOCAB, EMB, HIDDEN, N_CLASSES = 9, 6, 7, 3


def packed_classifier(torch, nn, bidirectional):
    """Embedding, pack_padded_sequence (unsorted lengths), a 2-layer LSTM, pad_packed_sequence;
    the last step read from h_n, by gather and by indexing."""
    from_rnn = nn.utils.rnn

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(VOCAB, EMB, padding_idx=0)
            self.lstm = nn.LSTM(EMB, HIDDEN, num_layers=2, batch_first=True,
                                bidirectional=bidirectional)
            self.fc = nn.Linear(HIDDEN * (2 if bidirectional else 1), N_CLASSES)

        def forward(self, padded, lengths):
            packed = from_rnn.pack_padded_sequence(self.embedding(padded), lengths.cpu(),
                                                   batch_first=True, enforce_sorted=False)
            packed_out, (h_n, c_n) = self.lstm(packed)
            output, out_lengths = from_rnn.pad_packed_sequence(packed_out, batch_first=True)
            if bidirectional:
                last = torch.cat((h_n[-2], h_n[-1]), dim=1)
            else:
                last = h_n[-1]
            idx = (lengths - 1).view(-1, 1, 1).expand(-1, 1, output.size(2))
            gathered = output.gather(1, idx).squeeze(1)
            by_index = output[torch.arange(output.size(0)), lengths - 1]
            return self.fc(last), output, out_lengths, gathered, by_index, last

    return Classifier


def sequence_loader(torch, nn, data):
    """Twelve sequences of lengths 1 to 7, padded per batch by a collate_fn."""
    rng = np.random.default_rng(10)
    lengths = rng.integers(1, 8, size=12)
    samples = [(rng.integers(1, VOCAB, size=n), int(rng.integers(N_CLASSES))) for n in lengths]

    class SeqDataset(data.Dataset):
        def __len__(self):
            return len(samples)

        def __getitem__(self, i):
            ids, label = samples[i]
            return torch.tensor(ids), label

    def collate(batch):
        seqs, labels = zip(*batch)
        lengths = torch.tensor([len(s) for s in seqs])
        padded = nn.utils.rnn.pad_sequence(list(seqs), batch_first=True, padding_value=0)
        return padded, lengths, torch.tensor(labels)

    return data.DataLoader(SeqDataset(), batch_size=4, shuffle=False, collate_fn=collate)


def packed_lstm_classifier(torch, nn, F, optim, data, twin, bidirectional=False, steps=4):
    loader = sequence_loader(torch, nn, data)
    model = twin.model(packed_classifier(torch, nn, bidirectional)())
    optimizer = optim.Adam(model.parameters(), lr=0.05)
    losses = []
    for _ in range(steps):
        for padded, lengths, labels in loader:
            logits = model(padded, lengths)[0]
            loss = F.cross_entropy(logits, labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())

    model.eval()
    with torch.no_grad():
        padded, lengths, labels = next(iter(loader))
        logits, output, out_lengths, gathered, by_index, last = model(padded, lengths)
        accuracy = (logits.argmax(1) == labels).float().mean().item()
    same_last = (gathered[:, :HIDDEN] - last[:, :HIDDEN]).abs().max().item()  # forward direction
    return {"losses": losses, "logits": logits, "output": output, "lengths": out_lengths,
            "gathered": gathered, "by_index": by_index, "accuracy": accuracy,
            "last_is_gathered": same_last,
            "padding_zero": output[lengths == 1, 1:].abs().sum().item()}


@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_lstm_classifier_matches_torch(bidirectional):
    expected, actual = run_both(packed_lstm_classifier, np.float64, bidirectional=bidirectional)
    assert_agree(expected, actual, np.float64)
    assert actual["last_is_gathered"] < 1e-12 and actual["padding_zero"] == 0.0
    per_epoch = len(actual["losses"]) // 4  # the mean loss of the last epoch beats the first's
    assert np.mean(actual["losses"][-per_epoch:]) < np.mean(actual["losses"][:per_epoch])
