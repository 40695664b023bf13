"""Ports of the "Sequence models and LSTM networks" tutorial (the LSTM part-of-speech tagger),
of "Advanced: making dynamic decisions and the Bi-LSTM CRF" and of pytorch/examples
time_sequence_prediction (stacked LSTMCells trained by LBFGS with a closure). See harness.py for
how a port test works."""

import numpy as np
import pytest
from harness import assert_agree, run_both

START_TAG, STOP_TAG = "<START>", "<STOP>"

TAGGED = [("the dog ate the apple".split(), ["DET", "NN", "V", "DET", "NN"]),
          ("everybody read that book".split(), ["NN", "V", "DET", "NN"]),
          ("the apple read that dog".split(), ["DET", "NN", "V", "DET", "NN"])]


def prepare_sequence(torch, seq, to_ix):
    idxs = [to_ix[w] for w in seq]
    return torch.tensor(idxs, dtype=torch.long)


def word_index():
    word_to_ix = {}
    for sent, _tags in TAGGED:
        for word in sent:
            if word not in word_to_ix:
                word_to_ix[word] = len(word_to_ix)
    return word_to_ix


# --- the LSTM part-of-speech tagger ----------------------------------------------------------
def lstm_tagger_model(nn, F):
    """LSTMTagger, and forget_gate_bias (set through param.data slices, run by model.apply)."""

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

    return LSTMTagger, forget_gate_bias


def lstm_tagger(torch, nn, F, optim, data, twin, epochs=6):
    word_to_ix = word_index()
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2}
    LSTMTagger, forget_gate_bias = lstm_tagger_model(nn, F)
    model = twin.model(LSTMTagger(6, 6, len(word_to_ix), len(tag_to_ix)))
    model.apply(forget_gate_bias)
    loss_function = nn.NLLLoss()
    optimizer = optim.SGD(model.parameters(), lr=0.1)
    with torch.no_grad():
        before = model(prepare_sequence(torch, TAGGED[0][0], word_to_ix))
    losses = []
    for _epoch in range(epochs):
        for sentence, tags in TAGGED:
            model.zero_grad()
            sentence_in = prepare_sequence(torch, sentence, word_to_ix)
            targets = prepare_sequence(torch, tags, tag_to_ix)
            tag_scores = model(sentence_in)
            loss = loss_function(tag_scores, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        after = model(prepare_sequence(torch, TAGGED[0][0], word_to_ix))
    return {"before": before, "after": after, "losses": losses,
            "bias": model.lstm.bias_ih_l0, "forget_bias_kept": model.lstm.bias_hh_l0[6:12]}


# --- the Bi-LSTM CRF -------------------------------------------------------------------------
def argmax(torch, vec):
    _, idx = torch.max(vec, 1)
    return idx.item()


def log_sum_exp(torch, vec):
    max_score = vec[0, argmax(torch, vec)]
    max_score_broadcast = max_score.view(1, -1).expand(1, vec.size()[1])
    return max_score + torch.log(torch.sum(torch.exp(vec - max_score_broadcast)))


def bilstm_features(torch, nn):
    """The network part of BiLSTM_CRF: embeddings, the Bi-LSTM, the emission features, the
    transition scores and the score of a tagging."""

    class BiLSTMFeatures(nn.Module):
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

    return BiLSTMFeatures


def bilstm_crf_model(torch, nn):
    """BiLSTM_CRF: the forward algorithm, Viterbi decoding, the negative log-likelihood."""

    class BiLSTM_CRF(bilstm_features(torch, nn)):
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
                    alphas_t.append(log_sum_exp(torch, next_tag_var).view(1))
                forward_var = torch.cat(alphas_t).view(1, -1)
            terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
            return log_sum_exp(torch, terminal_var)

        def _viterbi_decode(self, feats):
            backpointers = []
            init_vvars = torch.full((1, self.tagset_size), -10000.)
            init_vvars[0][self.tag_to_ix[START_TAG]] = 0
            forward_var = init_vvars
            for feat in feats:
                bptrs_t, viterbivars_t = [], []
                for next_tag in range(self.tagset_size):
                    next_tag_var = forward_var + self.transitions[next_tag]
                    best_tag_id = argmax(torch, next_tag_var)
                    bptrs_t.append(best_tag_id)
                    viterbivars_t.append(next_tag_var[0][best_tag_id].view(1))
                forward_var = (torch.cat(viterbivars_t) + feat).view(1, -1)
                backpointers.append(bptrs_t)
            terminal_var = forward_var + self.transitions[self.tag_to_ix[STOP_TAG]]
            best_tag_id = argmax(torch, terminal_var)
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

    return BiLSTM_CRF


def bilstm_crf(torch, nn, F, optim, data, twin, epochs=3):
    word_to_ix = word_index()
    tag_to_ix = {"DET": 0, "NN": 1, "V": 2, START_TAG: 3, STOP_TAG: 4}
    model = twin.model(bilstm_crf_model(torch, nn)(len(word_to_ix), tag_to_ix, 5, 4))
    model.block_transitions()
    optimizer = optim.SGD(model.parameters(), lr=0.01, weight_decay=1e-4)
    with torch.no_grad():
        before = model(prepare_sequence(torch, TAGGED[0][0], word_to_ix))
    losses = []
    for _epoch in range(epochs):
        for sentence, tags in TAGGED:
            model.zero_grad()
            sentence_in = prepare_sequence(torch, sentence, word_to_ix)
            targets = torch.tensor([tag_to_ix[t] for t in tags], dtype=torch.long)
            loss = model.neg_log_likelihood(sentence_in, targets)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
    with torch.no_grad():
        after = model(prepare_sequence(torch, TAGGED[0][0], word_to_ix))
    return {"before": before, "after": after, "losses": losses,
            "transitions": model.transitions}


@pytest.mark.parametrize("script", [lstm_tagger, bilstm_crf])
def test_sequence_taggers_match_torch(script):
    expected, actual = run_both(script, np.float64)
    assert_agree(expected, actual, np.float64)
    assert sum(actual["losses"][-3:]) < sum(actual["losses"][:3])  # the last epoch's vs the first


# --- pytorch/examples time_sequence_prediction: LSTMCell and LBFGS ---------------------------
def sequence_model(torch, nn):
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
            for _i in range(future):
                h_t, c_t = self.lstm1(output, (h_t, c_t))
                h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
                output = self.linear(h_t2)
                outputs += [output]
            return torch.cat(outputs, dim=1)

    return Sequence


def time_sequence_prediction(torch, nn, F, optim, data, twin, steps=2, future=5):
    rng = np.random.default_rng(13)
    T, L, N = 20, 30, 8
    x = np.empty((N, L), np.float64)
    x[:] = np.arange(L) + rng.integers(-4 * T, 4 * T, N).reshape(N, 1)
    sines = np.sin(x / 1.0 / T)
    input = torch.from_numpy(sines[2:, :-1])
    target = torch.from_numpy(sines[2:, 1:])
    test_input = torch.from_numpy(sines[:2, :-1])
    test_target = torch.from_numpy(sines[:2, 1:])
    seq = twin.model(sequence_model(torch, nn)()).double()
    criterion = nn.MSELoss()
    optimizer = optim.LBFGS(seq.parameters(), lr=0.8, max_iter=6)
    closure_losses, test_losses = [], []
    for _i in range(steps):
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


def test_time_sequence_prediction_lbfgs_matches_torch():
    expected, actual = run_both(time_sequence_prediction, np.float64)
    assert_agree(expected, actual, np.float64)
    # LBFGS evaluates trial points along the way (the last may be worse than the first); the
    # best of them beats the start
    assert min(actual["closure_losses"][1:]) < actual["closure_losses"][0]
