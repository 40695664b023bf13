"""Ports of pytorch/examples word_language_model (RNNModel with LSTM, GRU and plain RNNs, tied
weights, and its TransformerModel) and of the "Language modeling with nn.Transformer" tutorial,
on a token stream with structure to learn (see harness.py for how a port test works)."""

import copy
import io
import math

import numpy as np
import pytest
from harness import assert_agree, run_both, run_nabla, token_stream

NTOKENS = 12


def positional_encoding(torch, nn):
    class PositionalEncoding(nn.Module):
        def __init__(self, d_model, dropout=0.1, max_len=64):
            super().__init__()
            self.dropout = nn.Dropout(p=dropout)
            pe = torch.zeros(max_len, d_model)
            position = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
            div_term = torch.exp(torch.arange(0, d_model, 2).float()
                                 * (-math.log(10000.0) / d_model))
            pe[:, 0::2] = torch.sin(position * div_term)
            pe[:, 1::2] = torch.cos(position * div_term)
            pe = pe.unsqueeze(0).transpose(0, 1)
            self.register_buffer("pe", pe)

        def forward(self, x):
            x = x + self.pe[:x.size(0), :]
            return self.dropout(x)

    return PositionalEncoding


# --- pytorch/examples word_language_model -----------------------------------------------------
def rnn_model(nn, F):
    class RNNModel(nn.Module):
        def __init__(self, rnn_type, ntoken, ninp, nhid, nlayers, dropout=0.5, tie_weights=False):
            super().__init__()
            self.ntoken = ntoken
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(ntoken, ninp)
            if rnn_type in ["LSTM", "GRU"]:
                self.rnn = getattr(nn, rnn_type)(ninp, nhid, nlayers, dropout=dropout)
            else:
                nonlinearity = {"RNN_TANH": "tanh", "RNN_RELU": "relu"}[rnn_type]
                self.rnn = nn.RNN(ninp, nhid, nlayers, nonlinearity=nonlinearity,
                                  dropout=dropout)
            self.decoder = nn.Linear(nhid, ntoken)
            if tie_weights:
                if nhid != ninp:
                    raise ValueError("When using the tied flag, nhid must be equal to emsize")
                self.decoder.weight = self.encoder.weight
            self.init_weights()
            self.rnn_type, self.nhid, self.nlayers = rnn_type, nhid, nlayers

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.encoder.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, input, hidden):
            emb = self.drop(self.encoder(input))
            output, hidden = self.rnn(emb, hidden)
            output = self.drop(output)
            decoded = self.decoder(output)
            decoded = decoded.view(-1, self.ntoken)
            return F.log_softmax(decoded, dim=1), hidden

        def init_hidden(self, bsz):
            weight = next(self.parameters())
            if self.rnn_type == "LSTM":
                return (weight.new_zeros(self.nlayers, bsz, self.nhid),
                        weight.new_zeros(self.nlayers, bsz, self.nhid))
            return weight.new_zeros(self.nlayers, bsz, self.nhid)

    return RNNModel


def transformer_model(torch, nn, F):
    PositionalEncoding = positional_encoding(torch, nn)

    class TransformerModel(nn.Transformer):
        def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.5):
            super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                             num_encoder_layers=nlayers, num_decoder_layers=1, dropout=dropout)
            self.model_type = "Transformer"
            self.src_mask = None
            self.pos_encoder = PositionalEncoding(ninp, dropout)
            self.input_emb = nn.Embedding(ntoken, ninp)
            self.ninp = ninp
            self.decoder = nn.Linear(ninp, ntoken)
            self.init_weights()

        def _generate_square_subsequent_mask(self, sz):
            return torch.log(torch.tril(torch.ones(sz, sz)))

        def init_weights(self):
            initrange = 0.1
            nn.init.uniform_(self.input_emb.weight, -initrange, initrange)
            nn.init.zeros_(self.decoder.bias)
            nn.init.uniform_(self.decoder.weight, -initrange, initrange)

        def forward(self, src, has_mask=True):
            if has_mask:
                device = src.device
                if self.src_mask is None or self.src_mask.size(0) != len(src):
                    self.src_mask = self._generate_square_subsequent_mask(len(src)).to(device)
            else:
                self.src_mask = None
            src = self.input_emb(src) * math.sqrt(self.ninp)
            src = self.pos_encoder(src)
            output = self.encoder(src, mask=self.src_mask)
            output = self.decoder(output)
            return F.log_softmax(output, dim=-1)

    return TransformerModel


def repackage_hidden(torch, h):
    if isinstance(h, torch.Tensor):
        return h.detach()
    return tuple(repackage_hidden(torch, v) for v in h)


def get_batch(source, i, bptt):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].view(-1)
    return data, target


def wlm_evaluate(torch, net, criterion, data_source, bptt, transformer, eval_batch_size=2):
    net.eval()
    total_loss = 0.0
    if not transformer:
        hidden = net.init_hidden(eval_batch_size)
    with torch.no_grad():
        for i in range(0, data_source.size(0) - 1, bptt):
            data, targets = get_batch(data_source, i, bptt)
            if transformer:
                output = net(data)
                output = output.view(-1, NTOKENS)
            else:
                output, hidden = net(data, hidden)
                hidden = repackage_hidden(torch, hidden)
            total_loss += len(data) * criterion(output, targets).item()
    return total_loss / (len(data_source) - 1)


def wlm_train(torch, net, criterion, train_data, lr, bptt, clip, transformer):
    net.train()
    total_loss = 0.0
    if not transformer:
        hidden = net.init_hidden(4)
    for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):  # noqa: B007 (used after)
        data, targets = get_batch(train_data, i, bptt)
        net.zero_grad()
        if transformer:
            output = net(data)
            output = output.view(-1, NTOKENS)
        else:
            hidden = repackage_hidden(torch, hidden)
            output, hidden = net(data, hidden)
        loss = criterion(output, targets)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
        for p in net.parameters():
            p.data.add_(p.grad, alpha=-lr)
        total_loss += loss.item()
    return total_loss / (batch + 1)


def batchify(data, bsz):
    nbatch = data.size(0) // bsz
    data = data.narrow(0, 0, nbatch * bsz)
    return data.view(bsz, -1).t().contiguous()


def word_language_model(torch, nn, F, optim, data, twin, model="LSTM", tied=True, epochs=3,
                        dropout=0.0):
    emsize, nhid, nlayers, bptt, clip = 8, 8, 2, 7, 0.25
    corpus = torch.from_numpy(token_stream(7))
    train_data = batchify(corpus[:240], 4)
    val_data = batchify(corpus[240:], 2)
    transformer = model == "Transformer"
    if transformer:
        net = twin.model(transformer_model(torch, nn, F)(NTOKENS, emsize, 2, nhid, nlayers,
                                                         dropout))
    else:
        net = twin.model(rnn_model(nn, F)(model, NTOKENS, emsize, nhid, nlayers, dropout, tied))
    criterion = nn.NLLLoss()
    lr, best_val_loss, history = 5.0, None, []
    saved = io.BytesIO()
    for _epoch in range(1, epochs + 1):
        train_loss = wlm_train(torch, net, criterion, train_data, lr, bptt, clip, transformer)
        val_loss = wlm_evaluate(torch, net, criterion, val_data, bptt, transformer)
        history.append((train_loss, val_loss, math.exp(val_loss), lr))
        if not best_val_loss or val_loss < best_val_loss:
            saved.seek(0)
            torch.save(net.state_dict(), saved)
            best_val_loss = val_loss
        else:
            lr /= 4.0
    saved.seek(0)
    net.load_state_dict(torch.load(saved))
    test_loss = wlm_evaluate(torch, net, criterion, val_data, bptt, transformer)
    tied_ok = (model == "Transformer" or not tied
               or net.decoder.weight is net.encoder.weight)
    return {"history": history, "test_ppl": math.exp(test_loss), "tied": tied_ok,
            "n_params": sum(p.numel() for p in net.parameters())}


@pytest.mark.parametrize("model,tied", [("LSTM", True), ("GRU", False), ("RNN_TANH", True),
                                        ("RNN_RELU", False), ("Transformer", False)])
def test_word_language_model_matches_torch(model, tied):
    expected, actual = run_both(word_language_model, np.float64, model=model, tied=tied)
    assert_agree(expected, actual, np.float64)
    assert actual["tied"]
    assert actual["test_ppl"] < 12  # better than guessing among 12 tokens


def test_word_language_model_float32_with_dropout_trains():
    result = run_nabla(word_language_model, model="LSTM", dropout=0.2)
    assert all(np.isfinite(h[0]) for h in result["history"])
    assert result["history"][-1][0] < result["history"][0][0]


# --- Language modeling with nn.Transformer (tutorial) ----------------------------------------
def tutorial_transformer(torch, nn, batch_first, norm_first):
    PositionalEncoding = positional_encoding(torch, nn)

    class TransformerModel(nn.Module):
        def __init__(self, ntoken, d_model, nhead, d_hid, nlayers, dropout=0.5):
            super().__init__()
            self.model_type = "Transformer"
            self.pos_encoder = PositionalEncoding(d_model, dropout)
            encoder_layers = nn.TransformerEncoderLayer(d_model, nhead, d_hid, dropout,
                                                        batch_first=batch_first,
                                                        norm_first=norm_first)
            self.transformer_encoder = nn.TransformerEncoder(encoder_layers, nlayers,
                                                             enable_nested_tensor=False)
            self.embedding = nn.Embedding(ntoken, d_model)
            self.d_model = d_model
            self.linear = nn.Linear(d_model, ntoken)
            self.init_weights()

        def init_weights(self):
            initrange = 0.1
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.linear.bias.data.zero_()
            self.linear.weight.data.uniform_(-initrange, initrange)

        def forward(self, src, src_mask=None):
            src = self.embedding(src) * math.sqrt(self.d_model)
            if batch_first:
                src = self.pos_encoder(src.transpose(0, 1)).transpose(0, 1)
                length = src.size(1)
            else:
                src = self.pos_encoder(src)
                length = len(src)
            if src_mask is None:
                src_mask = nn.Transformer.generate_square_subsequent_mask(length)
            output = self.transformer_encoder(src, src_mask, is_causal=True)
            return self.linear(output)

    return TransformerModel


def tutorial_batchify(data, bsz):
    seq_len = data.size(0) // bsz
    data = data[:seq_len * bsz]
    return data.view(bsz, seq_len).t().contiguous()


def tutorial_get_batch(source, i, bptt, batch_first):
    seq_len = min(bptt, len(source) - 1 - i)
    data = source[i:i + seq_len]
    target = source[i + 1:i + 1 + seq_len].reshape(-1)
    if batch_first:
        return data.t(), source[i + 1:i + 1 + seq_len].t().reshape(-1)
    return data, target


def tutorial_train(torch, model, criterion, optimizer, train_data, bptt, batch_first):
    model.train()
    total_loss, losses = 0.0, []
    for _batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
        data, targets = tutorial_get_batch(train_data, i, bptt, batch_first)
        output = model(data)
        output_flat = output.view(-1, NTOKENS)
        loss = criterion(output_flat, targets)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
        optimizer.step()
        total_loss += loss.item()
        losses.append(loss.item())
    return losses


def tutorial_evaluate(torch, model, criterion, eval_data, bptt, batch_first):
    model.eval()
    total_loss = 0.0
    with torch.no_grad():
        for i in range(0, eval_data.size(0) - 1, bptt):
            data, targets = tutorial_get_batch(eval_data, i, bptt, batch_first)
            seq_len = data.size(1) if batch_first else data.size(0)
            output_flat = model(data).view(-1, NTOKENS)
            total_loss += seq_len * criterion(output_flat, targets).item()
    return total_loss / (len(eval_data) - 1)


def transformer_lm(torch, nn, F, optim, data, twin, batch_first=False, norm_first=False,
                   epochs=3, dropout=0.0):
    d_model, nhead, d_hid, nlayers, bptt = 16, 2, 32, 2, 8
    corpus = torch.tensor(token_stream(8, n_tokens=300), dtype=torch.long)
    train_data, val_data = tutorial_batchify(corpus[:240], 6), tutorial_batchify(corpus[240:], 3)
    TransformerModel = tutorial_transformer(torch, nn, batch_first, norm_first)
    model = twin.model(TransformerModel(NTOKENS, d_model, nhead, d_hid, nlayers, dropout))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)
    best_val_loss, best_model, history = float("inf"), None, []
    for _epoch in range(1, epochs + 1):
        losses = tutorial_train(torch, model, criterion, optimizer, train_data, bptt, batch_first)
        val_loss = tutorial_evaluate(torch, model, criterion, val_data, bptt, batch_first)
        history.append({"train": losses, "val": val_loss, "ppl": math.exp(val_loss),
                        "lr": scheduler.get_last_lr()[0]})
        if val_loss < best_val_loss:
            best_val_loss = val_loss
            best_model = copy.deepcopy(model)
        scheduler.step()
    model = best_model
    with torch.no_grad():
        model.eval()
        src, _ = tutorial_get_batch(val_data, 0, bptt, batch_first)
        logits = model(src)
    best_ppl = math.exp(tutorial_evaluate(torch, model, criterion, val_data, bptt, batch_first))
    return {"history": history, "best_ppl": best_ppl, "logits": logits,
            "pe": model.pos_encoder.pe, "buffers": sorted(n for n, _ in model.named_buffers())}


@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True)])
def test_transformer_language_model_matches_torch(batch_first, norm_first):
    expected, actual = run_both(transformer_lm, np.float64, batch_first=batch_first,
                                norm_first=norm_first)
    assert_agree(expected, actual, np.float64)
    assert actual["history"][-1]["val"] < actual["history"][0]["train"][0]
