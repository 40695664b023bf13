"""Port of "NLP from scratch: translation with a sequence to sequence network and attention" (the
GRU encoder, the plain decoder and the Bahdanau attention decoder), on token pairs whose
'translation' is the reversed sentence shifted by one word (see harness.py for how a port test
works)."""

import numpy as np
import pytest
from harness import assert_agree, run_both, run_nabla

SOS_token, EOS_token, MAX_LENGTH = 0, 1, 6


def token_pairs(seed, n_pairs=12, vocab=10):
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


def encoder_decoder(torch, nn, F):
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

    return EncoderRNN, DecoderRNN


def bahdanau_attention(torch, nn, F):
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

    return BahdanauAttention


def attention_decoder(torch, nn, F):
    BahdanauAttention = bahdanau_attention(torch, nn, F)

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

    return AttnDecoderRNN


def train_epoch(dataloader, encoder, decoder, encoder_optimizer, decoder_optimizer, criterion):
    total_loss = 0
    for input_tensor, target_tensor in dataloader:
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
    return total_loss / len(dataloader)


def evaluate(torch, encoder, decoder, input_ids):
    """Greedy decoding of a batch of sentences, the words up to <EOS>."""
    decoded_words = []
    with torch.no_grad():
        input_tensor = torch.tensor(input_ids)
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
    return {"decoded": decoded_words, "outputs": decoder_outputs, "attentions": attn,
            "hidden": decoder_hidden}


def seq2seq_attention(torch, nn, F, optim, data, twin, attention=True, n_epochs=4,
                      dropout_p=0.0):
    input_ids, target_ids = token_pairs(6)
    n_words, hidden_size = 10, 16
    EncoderRNN, DecoderRNN = encoder_decoder(torch, nn, F)
    encoder = twin.model(EncoderRNN(n_words, hidden_size, dropout_p))
    if attention:
        decoder = twin.model(attention_decoder(torch, nn, F)(hidden_size, n_words, dropout_p))
    else:
        decoder = twin.model(DecoderRNN(hidden_size, n_words))
    train_data = data.TensorDataset(torch.LongTensor(input_ids), torch.LongTensor(target_ids))
    train_dataloader = data.DataLoader(train_data, sampler=data.SequentialSampler(train_data),
                                       batch_size=4)
    encoder_optimizer = optim.Adam(encoder.parameters(), lr=0.01)
    decoder_optimizer = optim.Adam(decoder.parameters(), lr=0.01)
    criterion = nn.NLLLoss()
    losses = [train_epoch(train_dataloader, encoder, decoder, encoder_optimizer,
                          decoder_optimizer, criterion) for _ in range(n_epochs)]
    encoder.eval()
    decoder.eval()
    return {"losses": losses, **evaluate(torch, encoder, decoder, input_ids[:3])}


@pytest.mark.parametrize("attention", [True, False])
def test_seq2seq_translation_matches_torch(attention):
    expected, actual = run_both(seq2seq_attention, np.float64, attention=attention)
    assert_agree(expected, actual, np.float64)
    assert actual["losses"][-1] < actual["losses"][0]
    if attention:
        np.testing.assert_allclose(actual["attentions"].sum(-1), 1.0)


def test_seq2seq_translation_float32_with_dropout_trains():
    result = run_nabla(seq2seq_attention, n_epochs=3, dropout_p=0.1)
    assert np.isfinite(result["losses"]).all() and result["losses"][-1] < result["losses"][0]
