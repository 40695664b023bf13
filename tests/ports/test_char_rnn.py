"""Ports of "NLP from scratch": classifying names with a character-level RNN (the hand-written RNN
and the newer nn.RNN version) and generating names with one (see harness.py for how a port test
works)."""

import string

import numpy as np
import pytest
from harness import assert_agree, fake_names, run_both, run_nabla

ALL_LETTERS = string.ascii_letters + " .,;'"


# --- Classifying names with a character-level RNN -------------------------------------------
def classifier_rnn(torch, nn):
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

    return RNN


def line_to_tensor(torch, line):
    tensor = torch.zeros(len(line), 1, len(ALL_LETTERS))
    for li, letter in enumerate(line):
        tensor[li][0][ALL_LETTERS.find(letter)] = 1
    return tensor


def confusion_matrix(torch, rnn, category_lines, category_from_output):
    """Row i: how the names of category i were classified, normalized to sum to 1."""
    n_categories = len(category_lines)
    confusion = torch.zeros(n_categories, n_categories)
    with torch.no_grad():
        for i, category in enumerate(category_lines):
            for line in category_lines[category]:
                hidden = rnn.initHidden()
                line_tensor = line_to_tensor(torch, line)
                for k in range(line_tensor.size()[0]):
                    output, hidden = rnn(line_tensor[k], hidden)
                confusion[i][category_from_output(output)[1]] += 1
    for i in range(n_categories):
        confusion[i] = confusion[i] / confusion[i].sum()
    return confusion, output


def char_rnn_classify(torch, nn, F, optim, data, twin, n_iters=40):
    category_lines = fake_names(0)
    all_categories = list(category_lines)
    n_categories = len(all_categories)
    rnn = twin.model(classifier_rnn(torch, nn)(len(ALL_LETTERS), 16, n_categories))
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
        output, loss = train(category_tensor, line_to_tensor(torch, line))
        losses.append(loss)
        guesses.append(category_from_output(output)[0])
    confusion, output = confusion_matrix(torch, rnn, category_lines, category_from_output)
    return {"losses": losses, "guesses": guesses, "confusion": confusion,
            "last_output": output}


def names_classifier(torch, nn, data, category_lines):
    """The newer tutorial's NamesDataset and CharRNN (nn.RNN over the whole line)."""
    labels_uniq = list(category_lines)

    class NamesDataset(data.Dataset):
        def __init__(self):
            self.items = [(name, cat) for cat in labels_uniq for name in category_lines[cat]]

        def __len__(self):
            return len(self.items)

        def __getitem__(self, idx):
            name, cat = self.items[idx]
            tensor = line_to_tensor(torch, name)
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

    return NamesDataset, CharRNN


def char_rnn_classify_nn_rnn(torch, nn, F, optim, data, twin, n_epochs=3):
    """The newer version of the tutorial: nn.RNN on the whole line, batches of lines, SGD."""
    category_lines = fake_names(2)
    NamesDataset, CharRNN = names_classifier(torch, nn, data, category_lines)
    dataset = NamesDataset()
    rnn = twin.model(CharRNN(len(ALL_LETTERS), 12, len(category_lines)))
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
    expected, actual = run_both(char_rnn_classify_nn_rnn, np.float64)
    assert_agree(expected, actual, np.float64)
    assert actual["losses"][-1] < actual["losses"][0]


# --- Generating names with a character-level RNN --------------------------------------------
GEN_LETTERS = string.ascii_letters + " .,;'-"
N_LETTERS = len(GEN_LETTERS) + 1  # plus EOS


def generator_rnn(torch, nn, n_categories, dropout):
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

    return RNN


def generator_tensors(torch, all_categories):
    """categoryTensor, inputTensor and targetTensor of the tutorial."""

    def category_tensor(category):
        tensor = torch.zeros(1, len(all_categories))
        tensor[0][all_categories.index(category)] = 1
        return tensor

    def input_tensor(line):
        tensor = torch.zeros(len(line), 1, N_LETTERS)
        for li in range(len(line)):
            tensor[li][0][GEN_LETTERS.find(line[li])] = 1
        return tensor

    def target_tensor(line):
        letter_indexes = [GEN_LETTERS.find(line[li]) for li in range(1, len(line))]
        letter_indexes.append(N_LETTERS - 1)  # EOS
        return torch.LongTensor(letter_indexes)

    return category_tensor, input_tensor, target_tensor


def sample(torch, rnn, cat, input_tensor, start_letter, greedy=True, max_length=8):
    """A name from a start letter: the most likely letter each step, or one drawn."""
    with torch.no_grad():
        input = input_tensor(start_letter)
        hidden = rnn.initHidden()
        output_name = start_letter
        for _i in range(max_length):
            output, hidden = rnn(cat, input[0], hidden)
            if greedy:
                topv, topi = output.topk(1)
                topi = topi[0][0]
            else:
                topi = torch.multinomial(output.exp(), 1)[0][0]
            if topi == N_LETTERS - 1:
                break
            letter = GEN_LETTERS[topi]
            output_name += letter
            input = input_tensor(letter)
        return output_name


def char_rnn_generate(torch, nn, F, optim, data, twin, dropout=0.0, n_iters=30):
    category_lines = fake_names(4)
    all_categories = list(category_lines)
    n_categories = len(all_categories)
    category_tensor, input_tensor, target_tensor = generator_tensors(torch, all_categories)
    rnn = twin.model(generator_rnn(torch, nn, n_categories, dropout)(N_LETTERS, 20, N_LETTERS))
    criterion = nn.NLLLoss()
    learning_rate = 0.05

    def train(category_tensor, input_line_tensor, target_line_tensor):
        target_line_tensor.unsqueeze_(-1)
        hidden = rnn.initHidden()
        rnn.zero_grad()
        loss = torch.Tensor([0])
        for i in range(input_line_tensor.size(0)):
            output, hidden = rnn(category_tensor, input_line_tensor[i], hidden)
            l = criterion(output, target_line_tensor[i])  # noqa: E741 (the tutorial's name)
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
    rnn.eval()
    greedy = [sample(torch, rnn, category_tensor(c), input_tensor, s)
              for c in all_categories for s in "ABC"]
    torch.manual_seed(0)
    sampled = [sample(torch, rnn, category_tensor(c), input_tensor, s, greedy=False)
               for c in all_categories for s in "ABC"]
    return {"losses": losses, "greedy": greedy, "sampled": sampled}


def test_char_rnn_generate_matches_torch():
    expected, actual = run_both(char_rnn_generate, np.float64)
    sampled = actual.pop("sampled") + expected.pop("sampled")
    assert_agree(expected, actual, np.float64)
    letters = set(GEN_LETTERS)
    assert all(1 <= len(name) <= 9 and set(name) <= letters for name in sampled)


def test_char_rnn_generate_trains_with_dropout():
    result = run_nabla(char_rnn_generate, dropout=0.1, n_iters=40)
    assert np.all(np.isfinite(result["losses"]))
    assert np.mean(result["losses"][-10:]) < np.mean(result["losses"][:10])
