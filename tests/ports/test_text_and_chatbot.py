"""Ports of the text classification tutorial (nn.EmbeddingBag with offsets, the torchtext
tutorial's model) and of the chatbot tutorial (a shared embedding, a bidirectional GRU encoder
over packed batches, Luong attention in its three forms, the masked NLL loss, greedy search). See
harness.py for how a port test works."""

import itertools

import numpy as np
import pytest
from harness import assert_agree, run_both


# --- Text classification with nn.EmbeddingBag (the torchtext tutorial's model) ---------------
def text_classification_model(nn):
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

    return TextClassificationModel


def collate_batch_of(torch):
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

    return collate_batch


def train_text(torch, model, criterion, optimizer, dataloader):
    model.train()
    total_acc, total_count, norms = 0, 0, []
    for _idx, (label, text, offsets) in enumerate(dataloader):
        optimizer.zero_grad()
        predicted_label = model(text, offsets)
        loss = criterion(predicted_label, label)
        loss.backward()
        norms.append(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1))
        optimizer.step()
        total_acc += (predicted_label.argmax(1) == label).sum().item()
        total_count += label.size(0)
    return total_acc / total_count, norms


def evaluate_text(torch, model, dataloader):
    model.eval()
    total_acc, total_count = 0, 0
    with torch.no_grad():
        for _idx, (label, text, offsets) in enumerate(dataloader):
            predicted_label = model(text, offsets)
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
    return total_acc / total_count


def text_classification(torch, nn, F, optim, data, twin, epochs=3):
    rng = np.random.default_rng(11)
    vocab_size, emsize, num_class = 20, 8, 4
    # a label's texts lean on its own five words
    texts = [(int(c), rng.integers(5 * c, 5 * c + 5, size=rng.integers(2, 9)) if rng.random() < .8
              else rng.integers(0, vocab_size, size=4)) for c in rng.integers(0, num_class, 48)]
    collate_batch = collate_batch_of(torch)
    model = twin.model(text_classification_model(nn)(vocab_size, emsize, num_class))
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=5.0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)
    train_split, valid_split = texts[:36], texts[36:]
    train_dataloader = data.DataLoader(train_split, batch_size=8, shuffle=False,
                                       collate_fn=collate_batch)
    valid_dataloader = data.DataLoader(valid_split, batch_size=8, shuffle=False,
                                       collate_fn=collate_batch)
    total_accu, history = None, []
    for _epoch in range(1, epochs + 1):
        accu_train, norms = train_text(torch, model, criterion, optimizer, train_dataloader)
        accu_val = evaluate_text(torch, model, valid_dataloader)
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
    expected, actual = run_both(text_classification, np.float64)
    assert_agree(expected, actual, np.float64)
    assert actual["history"][-1][1] > 0.5  # four classes


# --- Chatbot tutorial: Luong attention, masked NLL loss, greedy search -----------------------
PAD_token, SOS, EOS = 0, 1, 2


def zero_padding(seqs, fillvalue=PAD_token):
    return list(itertools.zip_longest(*seqs, fillvalue=fillvalue))


def binary_matrix(padded):
    return [[0 if token == PAD_token else 1 for token in seq] for seq in padded]


def batch2train_data(torch, pair_batch):
    pair_batch.sort(key=lambda x: len(x[0]), reverse=True)
    input_batch, output_batch = zip(*pair_batch)
    lengths = torch.tensor([len(indexes) for indexes in input_batch])
    inp = torch.LongTensor(zero_padding(input_batch))
    max_target_len = max(len(indexes) for indexes in output_batch)
    pad_list = zero_padding(output_batch)
    mask = torch.BoolTensor(binary_matrix(pad_list))
    return inp, lengths, torch.LongTensor(pad_list), mask, max_target_len


def encoder_and_attention(torch, nn, F):
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

    return EncoderRNN, Attn


def luong_decoder(torch, nn, F, Attn):
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

    return LuongAttnDecoderRNN


def mask_nll_loss(torch, inp, target, mask):
    n_total = mask.sum()
    cross_entropy = -torch.log(torch.gather(inp, 1, target.view(-1, 1)).squeeze(1))
    loss = cross_entropy.masked_select(mask).mean()
    return loss, n_total.item()


def train_iteration(torch, nn, batch, encoder, decoder, encoder_optimizer, decoder_optimizer):
    """One step of the tutorial's train(): teacher forcing, gradient clipping at 50."""
    inp, lengths, target, mask, max_target_len = batch
    encoder_optimizer.zero_grad()
    decoder_optimizer.zero_grad()
    encoder_outputs, encoder_hidden = encoder(inp, lengths)
    decoder_input = torch.LongTensor([[SOS for _ in range(3)]])
    decoder_hidden = encoder_hidden[:decoder.n_layers]
    loss, print_losses, n_totals = 0, [], 0
    for t in range(max_target_len):
        decoder_output, decoder_hidden = decoder(decoder_input, decoder_hidden, encoder_outputs)
        decoder_input = target[t].view(1, -1)
        mask_loss, n_total = mask_nll_loss(torch, decoder_output, target[t], mask[t])
        loss += mask_loss
        print_losses.append(mask_loss.item() * n_total)
        n_totals += n_total
    loss.backward()
    _ = nn.utils.clip_grad_norm_(encoder.parameters(), 50.0)
    _ = nn.utils.clip_grad_norm_(decoder.parameters(), 50.0)
    encoder_optimizer.step()
    decoder_optimizer.step()
    return sum(print_losses) / n_totals


def greedy_search_decoder(torch, nn):
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

    return GreedySearchDecoder


def chatbot(torch, nn, F, optim, data, twin, attn_model="dot", iterations=4):
    voc_words, hidden_size, max_len = 11, 10, 6
    rng = np.random.default_rng(12)
    pairs = []
    for _ in range(5):
        q = list(rng.integers(3, voc_words, size=rng.integers(2, max_len)))
        pairs.append((q + [EOS], [int(w) for w in q[::-1]] + [EOS]))
    EncoderRNN, Attn = encoder_and_attention(torch, nn, F)
    embedding = nn.Embedding(voc_words, hidden_size)
    encoder = EncoderRNN(hidden_size, embedding, n_layers=2, dropout=0.0)
    decoder = luong_decoder(torch, nn, F, Attn)(attn_model, embedding, hidden_size, voc_words,
                                                2, 0.0)
    if attn_model == "concat":
        with torch.no_grad():
            decoder.attn.v.uniform_(-0.3, 0.3)
    twin.model(encoder)
    twin.model(decoder)
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.05)
    losses = []
    for iteration in range(iterations):
        batch = batch2train_data(torch, [pairs[(iteration + k) % len(pairs)] for k in range(3)])
        losses.append(train_iteration(torch, nn, batch, encoder, decoder, encoder_optimizer,
                                      decoder_optimizer))
    encoder.eval()
    decoder.eval()
    searcher = greedy_search_decoder(torch, nn)(encoder, decoder)
    with torch.no_grad():
        indexes_batch = [pairs[0][0]]
        lengths = torch.tensor([len(indexes) for indexes in indexes_batch])
        input_batch = torch.LongTensor(indexes_batch).transpose(0, 1)
        tokens, scores = searcher(input_batch, lengths, max_len)
    return {"losses": losses, "tokens": tokens, "scores": scores,
            "shared_embedding": encoder.embedding is decoder.embedding}


@pytest.mark.parametrize("attn_model", ["dot", "general", "concat"])
def test_chatbot_matches_torch(attn_model):
    expected, actual = run_both(chatbot, np.float64, attn_model=attn_model)
    assert_agree(expected, actual, np.float64)
    assert actual["shared_embedding"]
