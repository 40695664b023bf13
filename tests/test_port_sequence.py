"""Sequence, NLP and attention programs in the style of the PyTorch tutorials and pytorch/examples,
run twice: once with torch's modules and once with nabla's under the same names.

Each program is a function of ``(torch, nn, F, optim, data, sync)`` that uses only those names, as a
script would after ``import torch; from torch import nn; ...``. ``sync(model)`` is the one hook:
on the torch run it records the model's initial ``state_dict``; on the nabla run it loads the
recorded weights into the twin (strict, so the parameter names and layouts must equal torch's).
The data come from NumPy with a fixed seed; dropout is off where its masks would differ.
"""

import io
import math
import string

import numpy as np
import pytest
import torch
from conftest import TOLERANCES

import nabla
import nabla.nn
import nabla.nn.functional
import nabla.optim
import nabla.utils.data

TORCH_LIBS = (torch, torch.nn, torch.nn.functional, torch.optim, torch.utils.data)
NABLA_LIBS = (nabla, nabla.nn, nabla.nn.functional, nabla.optim, nabla.utils.data)


class WeightSync:
    """Records the torch models' initial weights in order of creation; loads them into nabla's."""

    def __init__(self):
        self.states = []
        self.replay = False
        self.count = 0

    def __call__(self, model):
        if not self.replay:
            self.states.append({k: v.detach().numpy().copy()
                                for k, v in model.state_dict().items()})
            return model
        state = self.states[self.count]
        self.count += 1
        model.load_state_dict({k: nabla.tensor(v) for k, v in state.items()})
        return model


def run_both(script, dtype=np.float64, **kwargs):
    """Run ``script`` with torch, then with nabla (initial weights copied); return both results."""
    sync = WeightSync()
    results = []
    for lib in (TORCH_LIBS, NABLA_LIBS):
        old = lib[0].get_default_dtype()
        lib[0].set_default_dtype(lib[0].float64 if dtype == np.float64 else lib[0].float32)
        try:
            results.append(script(*lib, sync, **kwargs))
        finally:
            lib[0].set_default_dtype(old)
        sync.replay = True
    return results


def _plain(value):
    if isinstance(value, (torch.Tensor, nabla.Tensor)):
        return value.detach().numpy()
    return value


def assert_agree(expected, actual, dtype=np.float64, path="result"):
    """Assert two results (nested dicts / lists of tensors and numbers) agree to ``dtype``'s
    tolerances; integers, bools and strings must be equal."""
    expected, actual = _plain(expected), _plain(actual)
    if expected is None:
        assert actual is None, f"{path}: {actual!r} where torch gives None"
    elif isinstance(expected, dict):
        assert expected.keys() == actual.keys(), path
        for key in expected:
            assert_agree(expected[key], actual[key], dtype, f"{path}[{key!r}]")
    elif isinstance(expected, (list, tuple)):
        assert len(expected) == len(actual), f"{path}: lengths {len(expected)} != {len(actual)}"
        for k, (a, b) in enumerate(zip(expected, actual, strict=True)):
            assert_agree(a, b, dtype, f"{path}[{k}]")
    elif isinstance(expected, (str, bool, int, np.integer)) and not isinstance(expected, float):
        assert expected == actual, f"{path}: {actual!r} != torch's {expected!r}"
    else:
        want, got = np.asarray(expected), np.asarray(actual)
        assert want.shape == got.shape, f"{path}: shape {got.shape} != torch's {want.shape}"
        if want.dtype.kind in "iub":
            np.testing.assert_array_equal(got, want, err_msg=path)
        else:
            np.testing.assert_allclose(got, want, err_msg=path, **TOLERANCES[np.dtype(dtype)])


def _names(seed, n_per_class=6):
    """Synthetic 'names' of three 'languages', each drawing on its own letters."""
    rng = np.random.default_rng(seed)
    alphabets = {"Ab": "abcdefgh", "Cd": "ijklmnop", "Ef": "qrstuvwxyz"}
    out = {}
    for cat, letters in alphabets.items():
        out[cat] = ["".join(rng.choice(list(letters), size=rng.integers(3, 7))).capitalize()
                    for _ in range(n_per_class)]
    return out


# --- NLP from scratch: classifying names with a character-level RNN -------------------------

def char_rnn_classify(torch, nn, F, optim, data, sync, n_iters=40):
    all_letters = string.ascii_letters + " .,;'"
    n_letters = len(all_letters)
    category_lines = _names(0)
    all_categories = list(category_lines)
    n_categories = len(all_categories)

    def line_to_tensor(line):
        tensor = torch.zeros(len(line), 1, n_letters)
        for li, letter in enumerate(line):
            tensor[li][0][all_letters.find(letter)] = 1
        return tensor

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(input_size + hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, input, hidden):
            combined = torch.cat((input, hidden), 1)
            hidden = self.i2h(combined)
            output = self.softmax(self.i2o(combined))
            return output, hidden

        def initHidden(self):
            return torch.zeros(1, self.hidden_size)

    rnn = sync(RNN(n_letters, 16, n_categories))
    criterion = nn.NLLLoss()
    learning_rate = 0.05

    def train(category_tensor, line_tensor):
        hidden = rnn.initHidden()
        rnn.zero_grad()
        for i in range(line_tensor.size()[0]):
            output, hidden = rnn(line_tensor[i], hidden)
        loss = criterion(output, category_tensor)
        loss.backward()
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        return output, loss.item()

    def category_from_output(output):
        top_n, top_i = output.topk(1)
        category_i = top_i[0].item()
        return all_categories[category_i], category_i

    pick = np.random.default_rng(1)
    losses, guesses = [], []
    for _ in range(n_iters):
        category = all_categories[pick.integers(n_categories)]
        line = category_lines[category][pick.integers(len(category_lines[category]))]
        category_tensor = torch.tensor([all_categories.index(category)], dtype=torch.long)
        output, loss = train(category_tensor, line_to_tensor(line))
        losses.append(loss)
        guesses.append(category_from_output(output)[0])

    confusion = torch.zeros(n_categories, n_categories)
    with torch.no_grad():
        for i, category in enumerate(all_categories):
            for line in category_lines[category]:
                hidden = rnn.initHidden()
                line_tensor = line_to_tensor(line)
                for k in range(line_tensor.size()[0]):
                    output, hidden = rnn(line_tensor[k], hidden)
                confusion[i][category_from_output(output)[1]] += 1
    for i in range(n_categories):
        confusion[i] = confusion[i] / confusion[i].sum()
    return {"losses": losses, "guesses": guesses, "confusion": confusion,
            "last_output": output}


def char_rnn_classify_nn_rnn(torch, nn, F, optim, data, sync, n_epochs=3):
    """The newer version of the tutorial: nn.RNN on the whole line, batches of lines, SGD."""
    all_letters = string.ascii_letters + " .,;'"
    n_letters = len(all_letters)
    category_lines = _names(2)
    labels_uniq = list(category_lines)

    class NamesDataset(data.Dataset):
        def __init__(self):
            self.items = [(name, cat) for cat in labels_uniq for name in category_lines[cat]]

        def __len__(self):
            return len(self.items)

        def __getitem__(self, idx):
            name, cat = self.items[idx]
            tensor = torch.zeros(len(name), 1, n_letters)
            for li, letter in enumerate(name):
                tensor[li][0][all_letters.find(letter)] = 1
            label = torch.tensor([labels_uniq.index(cat)], dtype=torch.long)
            return label, tensor, cat, name

    class CharRNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__()
            self.rnn = nn.RNN(input_size, hidden_size)
            self.h2o = nn.Linear(hidden_size, output_size)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, line_tensor):
            rnn_out, hidden = self.rnn(line_tensor)
            return self.softmax(self.h2o(hidden[0]))

    dataset = NamesDataset()
    rnn = sync(CharRNN(n_letters, 12, len(labels_uniq)))
    criterion = nn.NLLLoss()
    optimizer = optim.SGD(rnn.parameters(), lr=0.1)
    order = np.random.default_rng(3).permutation(len(dataset))
    epoch_losses = []
    rnn.train()
    for _ in range(n_epochs):
        rnn.zero_grad()
        current_loss = 0
        for batch in np.array_split(order, 3):
            batch_loss = 0
            for idx in batch:
                label_tensor, text_tensor, label, text = dataset[int(idx)]
                output = rnn.forward(text_tensor)
                batch_loss += criterion(output, label_tensor)
            batch_loss.backward()
            nn.utils.clip_grad_norm_(rnn.parameters(), 3)
            optimizer.step()
            optimizer.zero_grad()
            current_loss += batch_loss.item() / len(batch)
        epoch_losses.append(current_loss / 3)

    rnn.eval()
    with torch.no_grad():
        correct = 0
        for i in range(len(dataset)):
            label_tensor, text_tensor, label, text = dataset[i]
            output = rnn(text_tensor)
            guess_i = output.topk(1)[1][0].item()
            correct += int(guess_i == label_tensor.item())
    return {"losses": epoch_losses, "correct": correct, "output": output,
            "weight_hh": rnn.rnn.weight_hh_l0}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_char_rnn_classify_matches_torch(dtype):
    expected, actual = run_both(char_rnn_classify, dtype)
    assert_agree(expected, actual, dtype)


def test_char_rnn_classify_nn_rnn_matches_torch():
    expected, actual = run_both(char_rnn_classify_nn_rnn)
    assert_agree(expected, actual)
    assert actual["losses"][-1] < actual["losses"][0]


# --- Generating names with a character-level RNN --------------------------------------------

def char_rnn_generate(torch, nn, F, optim, data, sync, dropout=0.0, n_iters=30):
    all_letters = string.ascii_letters + " .,;'-"
    n_letters = len(all_letters) + 1  # plus EOS
    category_lines = _names(4)
    all_categories = list(category_lines)
    n_categories = len(all_categories)

    class RNN(nn.Module):
        def __init__(self, input_size, hidden_size, output_size):
            super().__init__()
            self.hidden_size = hidden_size
            self.i2h = nn.Linear(n_categories + input_size + hidden_size, hidden_size)
            self.i2o = nn.Linear(n_categories + input_size + hidden_size, output_size)
            self.o2o = nn.Linear(hidden_size + output_size, output_size)
            self.dropout = nn.Dropout(dropout)
            self.softmax = nn.LogSoftmax(dim=1)

        def forward(self, category, input, hidden):
            input_combined = torch.cat((category, input, hidden), 1)
            hidden = self.i2h(input_combined)
            output = self.i2o(input_combined)
            output_combined = torch.cat((hidden, output), 1)
            output = self.o2o(output_combined)
            output = self.dropout(output)
            output = self.softmax(output)
            return output, hidden

        def initHidden(self):
            return torch.zeros(1, self.hidden_size)

    def category_tensor(category):
        tensor = torch.zeros(1, n_categories)
        tensor[0][all_categories.index(category)] = 1
        return tensor

    def input_tensor(line):
        tensor = torch.zeros(len(line), 1, n_letters)
        for li in range(len(line)):
            tensor[li][0][all_letters.find(line[li])] = 1
        return tensor

    def target_tensor(line):
        letter_indexes = [all_letters.find(line[li]) for li in range(1, len(line))]
        letter_indexes.append(n_letters - 1)  # EOS
        return torch.LongTensor(letter_indexes)

    rnn = sync(RNN(n_letters, 20, n_letters))
    criterion = nn.NLLLoss()
    learning_rate = 0.05

    def train(category_tensor, input_line_tensor, target_line_tensor):
        target_line_tensor.unsqueeze_(-1)
        hidden = rnn.initHidden()
        rnn.zero_grad()
        loss = torch.Tensor([0])
        for i in range(input_line_tensor.size(0)):
            output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
            l = criterion(output, target_line_tensor[i])
            loss += l
        loss.backward()
        for p in rnn.parameters():
            p.data.add_(p.grad.data, alpha=-learning_rate)
        return output, loss.item() / input_line_tensor.size(0)

    pick = np.random.default_rng(5)
    losses = []
    for _ in range(n_iters):
        category = all_categories[pick.integers(n_categories)]
        line = category_lines[category][pick.integers(len(category_lines[category]))]
        output, loss = train(category_tensor(category), input_tensor(line), target_tensor(line))
        losses.append(loss)

    def sample(category, start_letter, greedy=True, max_length=8):
        with torch.no_grad():
            cat = category_tensor(category)
            input = input_tensor(start_letter)
            hidden = rnn.initHidden()
            output_name = start_letter
            for i in range(max_length):
                output, hidden = rnn(cat, input[0], hidden)
                if greedy:
                    topv, topi = output.topk(1)
                    topi = topi[0][0]
                else:
                    topi = torch.multinomial(output.exp(), 1)[0][0]
                if topi == n_letters - 1:
                    break
                letter = all_letters[topi]
                output_name += letter
                input = input_tensor(letter)
            return output_name

    rnn.eval()
    greedy = [sample(c, s) for c in all_categories for s in "ABC"]
    torch.manual_seed(0)
    sampled = [sample(c, s, greedy=False) for c in all_categories for s in "ABC"]
    return {"losses": losses, "greedy": greedy, "sampled": sampled}


def test_char_rnn_generate_matches_torch():
    expected, actual = run_both(char_rnn_generate)
    sampled = actual.pop("sampled") + expected.pop("sampled")
    assert_agree(expected, actual)
    letters = set(string.ascii_letters + " .,;'-")
    assert all(1 <= len(name) <= 9 and set(name) <= letters for name in sampled)


def test_char_rnn_generate_trains_with_dropout():
    sync = WeightSync()
    result = char_rnn_generate(*NABLA_LIBS, sync, dropout=0.1, n_iters=40)
    assert np.all(np.isfinite(result["losses"]))
    assert np.mean(result["losses"][-10:]) < np.mean(result["losses"][:10])


# --- Translation with a sequence to sequence network and attention --------------------------

SOS_token, EOS_token, MAX_LENGTH = 0, 1, 6


def _pairs(seed, n_pairs=12, vocab=10):
    """Token pairs: the 'translation' of a sentence is its reverse, shifted by one word."""
    rng = np.random.default_rng(seed)
    inputs = np.zeros((n_pairs, MAX_LENGTH), dtype=np.int64)
    targets = np.zeros((n_pairs, MAX_LENGTH), dtype=np.int64)
    for k in range(n_pairs):
        words = rng.integers(2, vocab, size=rng.integers(2, MAX_LENGTH))
        inputs[k, :len(words)], inputs[k, len(words)] = words, EOS_token
        out = (words[::-1] - 1) % (vocab - 2) + 2
        targets[k, :len(out)], targets[k, len(out)] = out, EOS_token
    return inputs, targets


def seq2seq_attention(torch, nn, F, optim, data, sync, attention=True, n_epochs=4,
                      dropout_p=0.0):
    input_ids, target_ids = _pairs(6)
    n_words, hidden_size = 10, 16

    class EncoderRNN(nn.Module):
        def __init__(self, input_size, hidden_size, dropout_p=0.1):
            super().__init__()
            self.hidden_size = hidden_size
            self.embedding = nn.Embedding(input_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, input):
            embedded = self.dropout(self.embedding(input))
            output, hidden = self.gru(embedded)
            return output, hidden

    class DecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size):
            super().__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.gru = nn.GRU(hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            batch_size = encoder_outputs.size(0)
            decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS_token)
            decoder_hidden = encoder_hidden
            decoder_outputs = []
            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden = self.forward_step(decoder_input, decoder_hidden)
                decoder_outputs.append(decoder_output)
                if target_tensor is not None:
                    decoder_input = target_tensor[:, i].unsqueeze(1)  # teacher forcing
                else:
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()
            decoder_outputs = torch.cat(decoder_outputs, dim=1)
            decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
            return decoder_outputs, decoder_hidden, None

        def forward_step(self, input, hidden):
            output = F.relu(self.embedding(input))
            output, hidden = self.gru(output, hidden)
            return self.out(output), hidden

    class BahdanauAttention(nn.Module):
        def __init__(self, hidden_size):
            super().__init__()
            self.Wa = nn.Linear(hidden_size, hidden_size)
            self.Ua = nn.Linear(hidden_size, hidden_size)
            self.Va = nn.Linear(hidden_size, 1)

        def forward(self, query, keys):
            scores = self.Va(torch.tanh(self.Wa(query) + self.Ua(keys)))
            scores = scores.squeeze(2).unsqueeze(1)
            weights = F.softmax(scores, dim=-1)
            context = torch.bmm(weights, keys)
            return context, weights

    class AttnDecoderRNN(nn.Module):
        def __init__(self, hidden_size, output_size, dropout_p=0.1):
            super().__init__()
            self.embedding = nn.Embedding(output_size, hidden_size)
            self.attention = BahdanauAttention(hidden_size)
            self.gru = nn.GRU(2 * hidden_size, hidden_size, batch_first=True)
            self.out = nn.Linear(hidden_size, output_size)
            self.dropout = nn.Dropout(dropout_p)

        def forward(self, encoder_outputs, encoder_hidden, target_tensor=None):
            batch_size = encoder_outputs.size(0)
            decoder_input = torch.empty(batch_size, 1, dtype=torch.long).fill_(SOS_token)
            decoder_hidden = encoder_hidden
            decoder_outputs, attentions = [], []
            for i in range(MAX_LENGTH):
                decoder_output, decoder_hidden, attn_weights = self.forward_step(
                    decoder_input, decoder_hidden, encoder_outputs)
                decoder_outputs.append(decoder_output)
                attentions.append(attn_weights)
                if target_tensor is not None:
                    decoder_input = target_tensor[:, i].unsqueeze(1)
                else:
                    _, topi = decoder_output.topk(1)
                    decoder_input = topi.squeeze(-1).detach()
            decoder_outputs = torch.cat(decoder_outputs, dim=1)
            decoder_outputs = F.log_softmax(decoder_outputs, dim=-1)
            attentions = torch.cat(attentions, dim=1)
            return decoder_outputs, decoder_hidden, attentions

        def forward_step(self, input, hidden, encoder_outputs):
            embedded = self.dropout(self.embedding(input))
            query = hidden.permute(1, 0, 2)
            context, attn_weights = self.attention(query, encoder_outputs)
            input_gru = torch.cat((embedded, context), dim=2)
            output, hidden = self.gru(input_gru, hidden)
            return self.out(output), hidden, attn_weights

    encoder = sync(EncoderRNN(n_words, hidden_size, dropout_p))
    if attention:
        decoder = sync(AttnDecoderRNN(hidden_size, n_words, dropout_p))
    else:
        decoder = sync(DecoderRNN(hidden_size, n_words))
    train_data = data.TensorDataset(torch.LongTensor(input_ids), torch.LongTensor(target_ids))
    train_dataloader = data.DataLoader(train_data, sampler=data.SequentialSampler(train_data),
                                       batch_size=4)
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.01)
    criterion = nn.NLLLoss()

    losses = []
    for _ in range(n_epochs):
        total_loss = 0
        for input_tensor, target_tensor in train_dataloader:
            encoder_optimizer.zero_grad()
            decoder_optimizer.zero_grad()
            encoder_outputs, encoder_hidden = encoder(input_tensor)
            decoder_outputs, _, _ = decoder(encoder_outputs, encoder_hidden, target_tensor)
            loss = criterion(decoder_outputs.view(-1, decoder_outputs.size(-1)),
                             target_tensor.view(-1))
            loss.backward()
            encoder_optimizer.step()
            decoder_optimizer.step()
            total_loss += loss.item()
        losses.append(total_loss / len(train_dataloader))

    encoder.eval()
    decoder.eval()
    decoded_words = []
    with torch.no_grad():
        input_tensor = torch.tensor(input_ids[:3])
        encoder_outputs, encoder_hidden = encoder(input_tensor)
        decoder_outputs, decoder_hidden, attn = decoder(encoder_outputs, encoder_hidden)
        _, topi = decoder_outputs.topk(1)
        decoded_ids = topi.squeeze()
        for row in decoded_ids:
            words = []
            for idx in row:
                if idx.item() == EOS_token:
                    words.append("<EOS>")
                    break
                words.append(str(idx.item()))
            decoded_words.append(" ".join(words))
    return {"losses": losses, "decoded": decoded_words, "outputs": decoder_outputs,
            "attentions": attn, "hidden": decoder_hidden}


@pytest.mark.parametrize("attention", [True, False])
def test_seq2seq_translation_matches_torch(attention):
    expected, actual = run_both(seq2seq_attention, attention=attention)
    assert_agree(expected, actual)
    assert actual["losses"][-1] < actual["losses"][0]
    if attention:
        np.testing.assert_allclose(actual["attentions"].sum(-1).numpy(), 1.0)


def test_seq2seq_translation_float32_with_dropout_trains():
    result = seq2seq_attention(*NABLA_LIBS, WeightSync(), n_epochs=3, dropout_p=0.1)
    assert np.isfinite(result["losses"]).all() and result["losses"][-1] < result["losses"][0]


# --- pytorch/examples word_language_model -----------------------------------------------------

def _corpus(seed, n_tokens=330, ntoken=12):
    """A token stream with structure to learn: mostly 'next = 2 * previous + 1 (mod ntoken)'."""
    rng = np.random.default_rng(seed)
    ids = [int(rng.integers(ntoken))]
    for _ in range(n_tokens - 1):
        ids.append((2 * ids[-1] + 1) % ntoken if rng.random() < 0.8 else int(rng.integers(ntoken)))
    return np.array(ids, dtype=np.int64)


def _positional_encoding(torch, nn, math):
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


def word_language_model(torch, nn, F, optim, data, sync, model="LSTM", tied=True, epochs=3,
                        dropout=0.0):
    ntokens, emsize, nhid, nlayers, bptt, clip = 12, 8, 8, 2, 7, 0.25
    PositionalEncoding = _positional_encoding(torch, nn, math)

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

    def batchify(data, bsz):
        nbatch = data.size(0) // bsz
        data = data.narrow(0, 0, nbatch * bsz)
        return data.view(bsz, -1).t().contiguous()

    corpus = torch.from_numpy(_corpus(7))
    train_data = batchify(corpus[:240], 4)
    val_data = batchify(corpus[240:], 2)

    if model == "Transformer":
        net = sync(TransformerModel(ntokens, emsize, 2, nhid, nlayers, dropout))
    else:
        net = sync(RNNModel(model, ntokens, emsize, nhid, nlayers, dropout, tied))
    criterion = nn.NLLLoss()

    def repackage_hidden(h):
        if isinstance(h, torch.Tensor):
            return h.detach()
        return tuple(repackage_hidden(v) for v in h)

    def get_batch(source, i):
        seq_len = min(bptt, len(source) - 1 - i)
        data = source[i:i + seq_len]
        target = source[i + 1:i + 1 + seq_len].view(-1)
        return data, target

    def evaluate(data_source, eval_batch_size=2):
        net.eval()
        total_loss = 0.0
        if model != "Transformer":
            hidden = net.init_hidden(eval_batch_size)
        with torch.no_grad():
            for i in range(0, data_source.size(0) - 1, bptt):
                data, targets = get_batch(data_source, i)
                if model == "Transformer":
                    output = net(data)
                    output = output.view(-1, ntokens)
                else:
                    output, hidden = net(data, hidden)
                    hidden = repackage_hidden(hidden)
                total_loss += len(data) * criterion(output, targets).item()
        return total_loss / (len(data_source) - 1)

    def train(lr):
        net.train()
        total_loss = 0.0
        if model != "Transformer":
            hidden = net.init_hidden(4)
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i)
            net.zero_grad()
            if model == "Transformer":
                output = net(data)
                output = output.view(-1, ntokens)
            else:
                hidden = repackage_hidden(hidden)
                output, hidden = net(data, hidden)
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), clip)
            for p in net.parameters():
                p.data.add_(p.grad, alpha=-lr)
            total_loss += loss.item()
        return total_loss / (batch + 1)

    lr, best_val_loss, history = 5.0, None, []
    saved = io.BytesIO()
    for epoch in range(1, epochs + 1):
        train_loss = train(lr)
        val_loss = evaluate(val_data)
        history.append((train_loss, val_loss, math.exp(val_loss), lr))
        if not best_val_loss or val_loss < best_val_loss:
            saved.seek(0)
            torch.save(net.state_dict(), saved)
            best_val_loss = val_loss
        else:
            lr /= 4.0
    saved.seek(0)
    net.load_state_dict(torch.load(saved))
    test_loss = evaluate(val_data)
    tied_ok = (model == "Transformer" or not tied
               or net.decoder.weight is net.encoder.weight)
    return {"history": history, "test_ppl": math.exp(test_loss), "tied": tied_ok,
            "n_params": sum(p.numel() for p in net.parameters())}


@pytest.mark.parametrize("model,tied", [("LSTM", True), ("GRU", False), ("RNN_TANH", True),
                                        ("RNN_RELU", False), ("Transformer", False)])
def test_word_language_model_matches_torch(model, tied):
    expected, actual = run_both(word_language_model, model=model, tied=tied)
    assert_agree(expected, actual)
    assert actual["tied"]
    assert actual["test_ppl"] < 12  # better than guessing among 12 tokens


def test_word_language_model_float32_with_dropout_trains():
    result = word_language_model(*NABLA_LIBS, WeightSync(), model="LSTM", dropout=0.2)
    assert all(np.isfinite(h[0]) for h in result["history"])
    assert result["history"][-1][0] < result["history"][0][0]


# --- Language modeling with nn.Transformer (tutorial) ----------------------------------------

def transformer_lm(torch, nn, F, optim, data, sync, batch_first=False, norm_first=False,
                   epochs=3, dropout=0.0):
    import copy

    ntokens, d_model, nhead, d_hid, nlayers, bptt = 12, 16, 2, 32, 2, 8
    PositionalEncoding = _positional_encoding(torch, nn, math)

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

    def batchify(data, bsz):
        seq_len = data.size(0) // bsz
        data = data[:seq_len * bsz]
        return data.view(bsz, seq_len).t().contiguous()

    def get_batch(source, i):
        seq_len = min(bptt, len(source) - 1 - i)
        data = source[i:i + seq_len]
        target = source[i + 1:i + 1 + seq_len].reshape(-1)
        if batch_first:
            return data.t(), source[i + 1:i + 1 + seq_len].t().reshape(-1)
        return data, target

    corpus = torch.tensor(_corpus(8, n_tokens=300), dtype=torch.long)
    train_data, val_data = batchify(corpus[:240], 6), batchify(corpus[240:], 3)
    model = sync(TransformerModel(ntokens, d_model, nhead, d_hid, nlayers, dropout))
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    scheduler = optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.95)

    def train():
        model.train()
        total_loss, losses = 0.0, []
        for batch, i in enumerate(range(0, train_data.size(0) - 1, bptt)):
            data, targets = get_batch(train_data, i)
            output = model(data)
            output_flat = output.view(-1, ntokens)
            loss = criterion(output_flat, targets)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)
            optimizer.step()
            total_loss += loss.item()
            losses.append(loss.item())
        return losses

    def evaluate(eval_data):
        model.eval()
        total_loss = 0.0
        with torch.no_grad():
            for i in range(0, eval_data.size(0) - 1, bptt):
                data, targets = get_batch(eval_data, i)
                seq_len = data.size(1) if batch_first else data.size(0)
                output_flat = model(data).view(-1, ntokens)
                total_loss += seq_len * criterion(output_flat, targets).item()
        return total_loss / (len(eval_data) - 1)

    best_val_loss, best_model, history = float("inf"), None, []
    for epoch in range(1, epochs + 1):
        losses = train()
        val_loss = evaluate(val_data)
        history.append({"train": losses, "val": val_loss, "ppl": math.exp(val_loss),
                        "lr": scheduler.get_last_lr()[0]})
        if val_loss < best_val_loss:
            best_val_loss = val_loss
            best_model = copy.deepcopy(model)
        scheduler.step()
    model = best_model
    with torch.no_grad():
        model.eval()
        src, _ = get_batch(val_data, 0)
        logits = model(src)
    return {"history": history, "best_ppl": math.exp(evaluate(val_data)), "logits": logits,
            "pe": model.pos_encoder.pe, "buffers": sorted(n for n, _ in model.named_buffers())}


@pytest.mark.parametrize("batch_first,norm_first", [(False, False), (True, True)])
def test_transformer_language_model_matches_torch(batch_first, norm_first):
    expected, actual = run_both(transformer_lm, batch_first=batch_first, norm_first=norm_first)
    assert_agree(expected, actual)
    assert actual["history"][-1]["val"] < actual["history"][0]["train"][0]


# --- nn.MultiheadAttention and F.scaled_dot_product_attention used directly ------------------

def attention_usage(torch, nn, F, optim, data, sync):
    rng = np.random.default_rng(9)
    N, L, S, E, H = 3, 4, 5, 8, 2
    leaf = lambda *shape: torch.tensor(rng.normal(size=shape), requires_grad=True)  # noqa: E731
    query, key, value = leaf(N, L, E), leaf(N, S, E), leaf(N, S, E)

    mha = sync(nn.MultiheadAttention(E, H, batch_first=True))
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

    seq_first = sync(nn.MultiheadAttention(E, H, kdim=5, vdim=7, bias=False))
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
    expected, actual = run_both(attention_usage)
    assert_agree(expected, actual)
    assert actual["sdpa_vs_manual"] < 1e-12 and actual["masked_weight"] == 0.0


# --- Variable-length batches: pad, pack, LSTM, unpack ----------------------------------------

def packed_lstm_classifier(torch, nn, F, optim, data, sync, bidirectional=False, steps=4):
    from_rnn = nn.utils.rnn
    rng = np.random.default_rng(10)
    vocab, emb, hidden, n_classes = 9, 6, 7, 3
    lengths = rng.integers(1, 8, size=12)
    samples = [(rng.integers(1, vocab, size=n), int(rng.integers(n_classes))) for n in lengths]

    class SeqDataset(data.Dataset):
        def __len__(self):
            return len(samples)

        def __getitem__(self, i):
            ids, label = samples[i]
            return torch.tensor(ids), label

    def collate(batch):
        seqs, labels = zip(*batch)
        lengths = torch.tensor([len(s) for s in seqs])
        padded = from_rnn.pad_sequence(list(seqs), batch_first=True, padding_value=0)
        return padded, lengths, torch.tensor(labels)

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(vocab, emb, padding_idx=0)
            self.lstm = nn.LSTM(emb, hidden, num_layers=2, batch_first=True,
                                bidirectional=bidirectional)
            self.fc = nn.Linear(hidden * (2 if bidirectional else 1), n_classes)

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

    loader = data.DataLoader(SeqDataset(), batch_size=4, shuffle=False, collate_fn=collate)
    model = sync(Classifier())
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
    same_last = (gathered[:, :hidden] - last[:, :hidden]).abs().max().item()  # forward direction
    return {"losses": losses, "logits": logits, "output": output, "lengths": out_lengths,
            "gathered": gathered, "by_index": by_index, "accuracy": accuracy,
            "last_is_gathered": same_last,
            "padding_zero": output[lengths == 1, 1:].abs().sum().item()}


@pytest.mark.parametrize("bidirectional", [False, True])
def test_packed_lstm_classifier_matches_torch(bidirectional):
    expected, actual = run_both(packed_lstm_classifier, bidirectional=bidirectional)
    assert_agree(expected, actual)
    assert actual["last_is_gathered"] < 1e-12 and actual["padding_zero"] == 0.0
    assert actual["losses"][-1] < actual["losses"][0]


# --- Text classification with nn.EmbeddingBag (the torchtext tutorial's model) ---------------

def text_classification(torch, nn, F, optim, data, sync, epochs=3):
    rng = np.random.default_rng(11)
    vocab_size, emsize, num_class = 20, 8, 4
    # a label's texts lean on its own five words
    texts = [(int(c), rng.integers(5 * c, 5 * c + 5, size=rng.integers(2, 9)) if rng.random() < .8
              else rng.integers(0, vocab_size, size=4)) for c in rng.integers(0, num_class, 48)]

    def collate_batch(batch):
        label_list, text_list, offsets = [], [], [0]
        for _label, _text in batch:
            label_list.append(_label)
            processed_text = torch.tensor(_text, dtype=torch.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
        text_list = torch.cat(text_list)
        return label_list, text_list, offsets

    class TextClassificationModel(nn.Module):
        def __init__(self, vocab_size, embed_dim, num_class):
            super().__init__()
            self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
            self.fc = nn.Linear(embed_dim, num_class)
            self.init_weights()

        def init_weights(self):
            initrange = 0.5
            self.embedding.weight.data.uniform_(-initrange, initrange)
            self.fc.weight.data.uniform_(-initrange, initrange)
            self.fc.bias.data.zero_()

        def forward(self, text, offsets):
            return self.fc(self.embedding(text, offsets))

    model = sync(TextClassificationModel(vocab_size, emsize, num_class))
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    train_split, valid_split = texts[:36], texts[36:]
    train_dataloader = data.DataLoader(train_split, batch_size=8, shuffle=False,
                                       collate_fn=collate_batch)
    valid_dataloader = data.DataLoader(valid_split, batch_size=8, shuffle=False,
                                       collate_fn=collate_batch)

    def train(dataloader):
        model.train()
        total_acc, total_count, norms = 0, 0, []
        for idx, (label, text, offsets) in enumerate(dataloader):
            optimizer.zero_grad()
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            loss.backward()
            norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1))
            optimizer.step()
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
        return total_acc / total_count, norms

    def evaluate(dataloader):
        model.eval()
        total_acc, total_count = 0, 0
        with torch.no_grad():
            for idx, (label, text, offsets) in enumerate(dataloader):
                predicted_label = model(text, offsets)
                total_acc += (predicted_label.argmax(1) == label).sum().item()
                total_count += label.size(0)
        return total_acc / total_count

    total_accu, history = None, []
    for epoch in range(1, epochs + 1):
        accu_train, norms = train(train_dataloader)
        accu_val = evaluate(valid_dataloader)
        if total_accu is not None and total_accu > accu_val:
            scheduler.step()
        else:
            total_accu = accu_val
        history.append((accu_train, accu_val, scheduler.get_last_lr()[0], norms))

    split_a, split_b = data.random_split(texts, [0.75, 0.25],
                                         generator=torch.Generator().manual_seed(42))
    with torch.no_grad():
        label, text, offsets = collate_batch(texts[:5])
        probs = F.softmax(model(text, offsets), dim=1)
    return {"history": history, "probs": probs, "pred": probs.argmax(1),
            "split": (len(split_a), len(split_b))}


def test_text_classification_embedding_bag_matches_torch():
    expected, actual = run_both(text_classification)
    assert_agree(expected, actual)
    assert actual["history"][-1][1] > 0.5  # four classes


# --- Chatbot tutorial: Luong attention, masked NLL loss, greedy search -----------------------

def chatbot(torch, nn, F, optim, data, sync, attn_model="dot", iterations=4):
    import itertools

    PAD_token, SOS, EOS = 0, 1, 2
    voc_words, hidden_size, max_len = 11, 10, 6
    rng = np.random.default_rng(12)
    pairs = []
    for _ in range(5):
        q = list(rng.integers(3, voc_words, size=rng.integers(2, max_len)))
        pairs.append((q + [EOS], [int(w) for w in q[::-1]] + [EOS]))

    def zero_padding(seqs, fillvalue=PAD_token):
        return list(itertools.zip_longest(*seqs, fillvalue=fillvalue))

    def binary_matrix(padded):
        return [[0 if token == PAD_token else 1 for token in seq] for seq in padded]

    def batch2train_data(pair_batch):
        pair_batch.sort(key=lambda x: len(x[0]), reverse=True)
        input_batch, output_batch = zip(*pair_batch)
        lengths = torch.tensor([len(indexes) for indexes in input_batch])
        inp = torch.LongTensor(zero_padding(input_batch))
        max_target_len = max(len(indexes) for indexes in output_batch)
        pad_list = zero_padding(output_batch)
        mask = torch.BoolTensor(binary_matrix(pad_list))
        return inp, lengths, torch.LongTensor(pad_list), mask, max_target_len

    class EncoderRNN(nn.Module):
        def __init__(self, hidden_size, embedding, n_layers=1, dropout=0):
            super().__init__()
            self.n_layers, self.hidden_size, self.embedding = n_layers, hidden_size, embedding
            self.gru = nn.GRU(hidden_size, hidden_size, n_layers,
                              dropout=(0 if n_layers == 1 else dropout), bidirectional=True)

        def forward(self, input_seq, input_lengths, hidden=None):
            embedded = self.embedding(input_seq)
            packed = nn.utils.rnn.pack_padded_sequence(embedded, input_lengths)
            outputs, hidden = self.gru(packed, hidden)
            outputs, _ = nn.utils.rnn.pad_packed_sequence(outputs)
            outputs = outputs[:, :, :self.hidden_size] + outputs[:, :, self.hidden_size:]
            return outputs, hidden

    class Attn(nn.Module):
        def __init__(self, method, hidden_size):
            super().__init__()
            self.method, self.hidden_size = method, hidden_size
            if self.method == "general":
                self.attn = nn.Linear(self.hidden_size, hidden_size)
            elif self.method == "concat":
                self.attn = nn.Linear(self.hidden_size * 2, hidden_size)
                self.v = nn.Parameter(torch.FloatTensor(hidden_size))

        def forward(self, hidden, encoder_outputs):
            if self.method == "general":
                attn_energies = torch.sum(hidden * self.attn(encoder_outputs), dim=2)
            elif self.method == "concat":
                energy = self.attn(torch.cat((hidden.expand(encoder_outputs.size(0), -1, -1),
                                              encoder_outputs), 2)).tanh()
                attn_energies = torch.sum(self.v * energy, dim=2)
            else:
                attn_energies = torch.sum(hidden * encoder_outputs, dim=2)
            attn_energies = attn_energies.t()
            return F.softmax(attn_energies, dim=1).unsqueeze(1)

    class LuongAttnDecoderRNN(nn.Module):
        def __init__(self, attn_model, embedding, hidden_size, output_size, n_layers=1,
                     dropout=0.1):
            super().__init__()
            self.n_layers = n_layers
            self.embedding = embedding
            self.embedding_dropout = nn.Dropout(dropout)
            self.gru = nn.GRU(hidden_size, hidden_size, n_layers,
                              dropout=(0 if n_layers == 1 else dropout))
            self.concat = nn.Linear(hidden_size * 2, hidden_size)
            self.out = nn.Linear(hidden_size, output_size)
            self.attn = Attn(attn_model, hidden_size)

        def forward(self, input_step, last_hidden, encoder_outputs):
            embedded = self.embedding_dropout(self.embedding(input_step))
            rnn_output, hidden = self.gru(embedded, last_hidden)
            attn_weights = self.attn(rnn_output, encoder_outputs)
            context = attn_weights.bmm(encoder_outputs.transpose(0, 1))
            rnn_output, context = rnn_output.squeeze(0), context.squeeze(1)
            concat_output = torch.tanh(self.concat(torch.cat((rnn_output, context), 1)))
            output = F.softmax(self.out(concat_output), dim=1)
            return output, hidden

    def mask_nll_loss(inp, target, mask):
        n_total = mask.sum()
        cross_entropy = -torch.log(torch.gather(inp, 1, target.view(-1, 1)).squeeze(1))
        loss = cross_entropy.masked_select(mask).mean()
        return loss, n_total.item()

    embedding = nn.Embedding(voc_words, hidden_size)
    encoder = EncoderRNN(hidden_size, embedding, n_layers=2, dropout=0.0)
    decoder = LuongAttnDecoderRNN(attn_model, embedding, hidden_size, voc_words, 2, 0.0)
    if attn_model == "concat":
        with torch.no_grad():
            decoder.attn.v.uniform_(-0.3, 0.3)
    sync(encoder)
    sync(decoder)
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.05)

    losses = []
    for iteration in range(iterations):
        inp, lengths, target, mask, max_target_len = batch2train_data(
            [pairs[(iteration + k) % len(pairs)] for k in range(3)])
        encoder_optimizer.zero_grad()
        decoder_optimizer.zero_grad()
        encoder_outputs, encoder_hidden = encoder(inp, lengths)
        decoder_input = torch.LongTensor([[SOS for _ in range(3)]])
        decoder_hidden = encoder_hidden[:decoder.n_layers]
        loss, print_losses, n_totals = 0, [], 0
        for t in range(max_target_len):
            decoder_output, decoder_hidden = decoder(decoder_input, decoder_hidden,
                                                     encoder_outputs)
            decoder_input = target[t].view(1, -1)
            mask_loss, n_total = mask_nll_loss(decoder_output, target[t], mask[t])
            loss += mask_loss
            print_losses.append(mask_loss.item() * n_total)
            n_totals += n_total
        loss.backward()
        _ = nn.utils.clip_grad_norm_(encoder.parameters(), 50.0)
        _ = nn.utils.clip_grad_norm_(decoder.parameters(), 50.0)
        encoder_optimizer.step()
        decoder_optimizer.step()
        losses.append(sum(print_losses) / n_totals)

    class GreedySearchDecoder(nn.Module):
        def __init__(self, encoder, decoder):
            super().__init__()
            self.encoder, self.decoder = encoder, decoder

        def forward(self, input_seq, input_length, max_length):
            encoder_outputs, encoder_hidden = self.encoder(input_seq, input_length)
            decoder_hidden = encoder_hidden[:self.decoder.n_layers]
            decoder_input = torch.ones(1, 1, dtype=torch.long) * SOS
            all_tokens = torch.zeros([0], dtype=torch.long)
            all_scores = torch.zeros([0])
            for _ in range(max_length):
                decoder_output, decoder_hidden = self.decoder(decoder_input, decoder_hidden,
                                                              encoder_outputs)
                decoder_scores, decoder_input = torch.max(decoder_output, dim=1)
                all_tokens = torch.cat((all_tokens, decoder_input), dim=0)
                all_scores = torch.cat((all_scores, decoder_scores), dim=0)
                decoder_input = torch.unsqueeze(decoder_input, 0)
            return all_tokens, all_scores

    encoder.eval()
    decoder.eval()
    searcher = GreedySearchDecoder(encoder, decoder)
    with torch.no_grad():
        indexes_batch = [pairs[0][0]]
        lengths = torch.tensor([len(indexes) for indexes in indexes_batch])
        input_batch = torch.LongTensor(indexes_batch).transpose(0, 1)
        tokens, scores = searcher(input_batch, lengths, max_len)
    return {"losses": losses, "tokens": tokens, "scores": scores,
            "shared_embedding": encoder.embedding is decoder.embedding}


@pytest.mark.parametrize("attn_model", ["dot", "general", "concat"])
def test_chatbot_matches_torch(attn_model):
    expected, actual = run_both(chatbot, attn_model=attn_model)
    assert_agree(expected, actual)
    assert actual["shared_embedding"]


# --- Sequence models: an LSTM part-of-speech tagger and the Bi-LSTM CRF ----------------------

_TAGGED = [("the dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
           ("everybody read that book".split(), ["NN", "V", "DET", "NN"]),
           ("the apple read that dog".split(), ["DET", "NN", "V", "DET", "NN"])]


def lstm_tagger(torch, nn, F, optim, data, sync, epochs=6):
    word_to_ix = {}
    for sent, tags in _TAGGED:
        for word in sent:
            if word not in word_to_ix:
                word_to_ix[word] = len(word_to_ix)
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2}

    def prepare_sequence(seq, to_ix):
        idxs = [to_ix[w] for w in seq]
        return torch.tensor(idxs, dtype=torch.long)

    class LSTMTagger(nn.Module):
        def __init__(self, embedding_dim, hidden_dim, vocab_size, tagset_size):
            super().__init__()
            self.hidden_dim = hidden_dim
            self.word_embeddings = nn.Embedding(vocab_size, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim)
            self.hidden2tag = nn.Linear(hidden_dim, tagset_size)

        def forward(self, sentence):
            embeds = self.word_embeddings(sentence)
            lstm_out, _ = self.lstm(embeds.view(len(sentence), 1, -1))
            tag_space = self.hidden2tag(lstm_out.view(len(sentence), -1))
            return F.log_softmax(tag_space, dim=1)

    def forget_gate_bias(m):
        if isinstance(m, nn.LSTM):
            for name, param in m.named_parameters():
                if "bias" in name:
                    n = param.size(0)
                    param.data.fill_(0)
                    param.data[n // 4:n // 2].fill_(1.0)

    model = sync(LSTMTagger(6, 6, len(word_to_ix), len(tag_to_ix)))
    model.apply(forget_gate_bias)
    loss_function = nn.NLLLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    with torch.no_grad():
        before = model(prepare_sequence(_TAGGED[0][0], word_to_ix))
    losses = []
    for epoch in range(epochs):
        for sentence, tags in _TAGGED:
            model.zero_grad()
            sentence_in = prepare_sequence(sentence, word_to_ix)
            targets = prepare_sequence(tags, tag_to_ix)
            tag_scores = model(sentence_in)
            loss = loss_function(tag_scores, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        after = model(prepare_sequence(_TAGGED[0][0], word_to_ix))
    return {"before": before, "after": after, "losses": losses,
            "bias": model.lstm.bias_ih_l0, "forget_bias_kept": model.lstm.bias_hh_l0[6:12]}


def bilstm_crf(torch, nn, F, optim, data, sync, epochs=3):
    START_TAG, STOP_TAG = "<START>", "<STOP>"
    word_to_ix = {}
    for sentence, tags in _TAGGED:
        for word in sentence:
            if word not in word_to_ix:
                word_to_ix[word] = len(word_to_ix)
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2, START_TAG: 3, STOP_TAG: 4}

    def argmax(vec):
        _, idx = torch.max(vec, 1)
        return idx.item()

    def prepare_sequence(seq, to_ix):
        return torch.tensor([to_ix[w] for w in seq], dtype=torch.long)

    def log_sum_exp(vec):
        max_score = vec[0, argmax(vec)]
        max_score_broadcast = max_score.view(1, -1).expand(1, vec.size()[1])
        return max_score + torch.log(torch.sum(torch.exp(vec - max_score_broadcast)))

    class BiLSTM_CRF(nn.Module):
        def __init__(self, vocab_size, tag_to_ix, embedding_dim, hidden_dim):
            super().__init__()
            self.hidden_dim, self.tag_to_ix = hidden_dim, tag_to_ix
            self.tagset_size = len(tag_to_ix)
            self.word_embeds = nn.Embedding(vocab_size, embedding_dim)
            self.lstm = nn.LSTM(embedding_dim, hidden_dim // 2, num_layers=1,
                                bidirectional=True)
            self.hidden2tag = nn.Linear(hidden_dim, self.tagset_size)
            self.transitions = nn.Parameter(torch.randn(self.tagset_size, self.tagset_size))
            self.hidden = self.init_hidden()

        def init_hidden(self):  # zeros, where the tutorial draws randn: the draws would differ
            return (torch.zeros(2, 1, self.hidden_dim // 2),
                    torch.zeros(2, 1, self.hidden_dim // 2))

        def block_transitions(self):
            self.transitions.data[self.tag_to_ix[START_TAG], :] = -10000
            self.transitions.data[:, self.tag_to_ix[STOP_TAG]] = -10000

        def _forward_alg(self, feats):
            init_alphas = torch.full((1, self.tagset_size), -10000.)
            init_alphas[0][self.tag_to_ix[START_TAG]] = 0.
            forward_var = init_alphas
            for feat in feats:
                alphas_t = []
                for next_tag in range(self.tagset_size):
                    emit_score = feat[next_tag].view(1, -1).expand(1, self.tagset_size)
                    trans_score = self.transitions[next_tag].view(1, -1)
                    next_tag_var = forward_var + trans_score + emit_score
                    alphas_t.append(log_sum_exp(next_tag_var).view(1))
                forward_var = torch.cat(alphas_t).view(1, -1)
            terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
            return log_sum_exp(terminal_var)

        def _get_lstm_features(self, sentence):
            self.hidden = self.init_hidden()
            embeds = self.word_embeds(sentence).view(len(sentence), 1, -1)
            lstm_out, self.hidden = self.lstm(embeds, self.hidden)
            lstm_out = lstm_out.view(len(sentence), self.hidden_dim)
            return self.hidden2tag(lstm_out)

        def _score_sentence(self, feats, tags):
            score = torch.zeros(1)
            tags = torch.cat([torch.tensor([self.tag_to_ix[START_TAG]], dtype=torch.long), tags])
            for i, feat in enumerate(feats):
                score = score + self.transitions[tags[i + 1], tags[i]] + feat[tags[i + 1]]
            return score + self.transitions[self.tag_to_ix[STOP_TAG], tags[-1]]

        def _viterbi_decode(self, feats):
            backpointers = []
            init_vvars = torch.full((1, self.tagset_size), -10000.)
            init_vvars[0][self.tag_to_ix[START_TAG]] = 0
            forward_var = init_vvars
            for feat in feats:
                bptrs_t, viterbivars_t = [], []
                for next_tag in range(self.tagset_size):
                    next_tag_var = forward_var + self.transitions[next_tag]
                    best_tag_id = argmax(next_tag_var)
                    bptrs_t.append(best_tag_id)
                    viterbivars_t.append(next_tag_var[0][best_tag_id].view(1))
                forward_var = (torch.cat(viterbivars_t) + feat).view(1, -1)
                backpointers.append(bptrs_t)
            terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
            best_tag_id = argmax(terminal_var)
            path_score = terminal_var[0][best_tag_id]
            best_path = [best_tag_id]
            for bptrs_t in reversed(backpointers):
                best_tag_id = bptrs_t[best_tag_id]
                best_path.append(best_tag_id)
            start = best_path.pop()
            assert start == self.tag_to_ix[START_TAG]
            best_path.reverse()
            return path_score, best_path

        def neg_log_likelihood(self, sentence, tags):
            feats = self._get_lstm_features(sentence)
            return self._forward_alg(feats) - self._score_sentence(feats, tags)

        def forward(self, sentence):
            return self._viterbi_decode(self._get_lstm_features(sentence))

    model = sync(BiLSTM_CRF(len(word_to_ix), tag_to_ix, 5, 4))
    model.block_transitions()
    optimizer = optim.SGD(model.parameters(), lr=0.01, weight_decay=1e-4)
    with torch.no_grad():
        before = model(prepare_sequence(_TAGGED[0][0], word_to_ix))
    losses = []
    for epoch in range(epochs):
        for sentence, tags in _TAGGED:
            model.zero_grad()
            sentence_in = prepare_sequence(sentence, word_to_ix)
            targets = torch.tensor([tag_to_ix[t] for t in tags], dtype=torch.long)
            loss = model.neg_log_likelihood(sentence_in, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        after = model(prepare_sequence(_TAGGED[0][0], word_to_ix))
    return {"before": before, "after": after, "losses": losses,
            "transitions": model.transitions}


@pytest.mark.parametrize("script", [lstm_tagger, bilstm_crf])
def test_sequence_taggers_match_torch(script):
    expected, actual = run_both(script)
    assert_agree(expected, actual)
    assert sum(actual["losses"][-3:]) < sum(actual["losses"][:3])  # the last epoch's vs the first


# --- pytorch/examples time_sequence_prediction: LSTMCell and LBFGS ---------------------------

def time_sequence_prediction(torch, nn, F, optim, data, sync, steps=2, future=5):
    rng = np.random.default_rng(13)
    T, L, N = 20, 30, 8
    x = np.empty((N, L), np.float64)
    x[:] = np.arange(L) + rng.integers(-4 * T, 4 * T, N).reshape(N, 1)
    sines = np.sin(x / 1.0 / T)

    class Sequence(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm1 = nn.LSTMCell(1, 12)
            self.lstm2 = nn.LSTMCell(12, 12)
            self.linear = nn.Linear(12, 1)

        def forward(self, input, future=0):
            outputs = []
            h_t = torch.zeros(input.size(0), 12, dtype=torch.double)
            c_t = torch.zeros(input.size(0), 12, dtype=torch.double)
            h_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
            c_t2 = torch.zeros(input.size(0), 12, dtype=torch.double)
            for input_t in input.split(1, dim=1):
                h_t, c_t = self.lstm1(input_t, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            for i in range(future):
                h_t, c_t = self.lstm1(output, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            return torch.cat(outputs, dim=1)

    input = torch.from_numpy(sines[2:, :-1])
    target = torch.from_numpy(sines[2:, 1:])
    test_input = torch.from_numpy(sines[:2, :-1])
    test_target = torch.from_numpy(sines[:2, 1:])
    seq = sync(Sequence()).double()
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=6)
    closure_losses, test_losses = [], []
    for i in range(steps):
        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            closure_losses.append(loss.item())
            loss.backward()
            return loss
        optimizer.step(closure)
        with torch.no_grad():
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            test_losses.append(loss.item())
        y = pred.detach().numpy()
    return {"closure_losses": closure_losses, "test_losses": test_losses, "y": y,
            "func_evals": optimizer.state[next(seq.parameters())]["func_evals"]}


@pytest.mark.skipif(not hasattr(nabla.optim, "LBFGS"), reason="nabla.optim.LBFGS not built yet")
def test_time_sequence_prediction_lbfgs_matches_torch():
    expected, actual = run_both(time_sequence_prediction)
    assert_agree(expected, actual)
    assert actual["closure_losses"][-1] < actual["closure_losses"][0]
