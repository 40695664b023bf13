"""ViT: the Vision Transformer (Dosovitskiy et al., 2020), "an image is worth 16x16 words".

The idea: cut the image into P x P patches, embed each patch linearly (a convolution with
kernel = stride = P), prepend a learned [CLS] token, add learned positions, and run a plain
Transformer encoder; the class comes from the [CLS] token's final state. No convolutional
prior beyond the patch cut: the model learns which patches relate from data, so it needs more
data or stronger regularization than a CNN of its size.
"""

from nabla.creation import zeros
from nabla.nn import init
from nabla.nn.modules.conv import Conv2d
from nabla.nn.modules.linear import Linear
from nabla.nn.modules.module import Module
from nabla.nn.modules.normalization import LayerNorm
from nabla.nn.modules.positional import LearnedPositionalEmbedding
from nabla.nn.modules.transformer import TransformerEncoder, TransformerEncoderLayer
from nabla.nn.parameter import Parameter
from nabla.ops.join import cat
from nabla.ops.shape import expand, flatten, transpose
from nabla.tensor import Tensor

__all__ = ["ViT"]


class ViT(Module):
    """Patch embedding -> [CLS] + patches + positions -> pre-norm Transformer encoder ->
    LayerNorm -> linear head on the [CLS] token.

    Args:
        image_size: H = W of the input.
        patch_size: P; image_size must be a multiple.
        in_channels: C.
        num_classes: outputs.
        dim: width E of the tokens.
        depth: encoder layers.
        heads: attention heads.
        mlp_dim: hidden width of each layer's feed-forward net.
        dropout: in the encoder layers.

    Shape: (N, C, H, W) -> logits (N, num_classes); (H / P)^2 + 1 tokens.
    """

    def __init__(self, image_size: int = 8, patch_size: int = 2, in_channels: int = 1,
                 num_classes: int = 10, dim: int = 64, depth: int = 4, heads: int = 4,
                 mlp_dim: int = 128, dropout: float = 0.1) -> None:
        super().__init__()
        if image_size % patch_size:
            raise ValueError(f"ViT: image_size {image_size} is not a multiple of patch_size "
                             f"{patch_size}")
        num_patches = (image_size // patch_size) ** 2
        self.patch_embed = Conv2d(in_channels, dim, patch_size, stride=patch_size)
        self.cls_token = Parameter(zeros(1, 1, dim))
        self.pos_embed = LearnedPositionalEmbedding(num_patches + 1, dim)
        layer = TransformerEncoderLayer(dim, heads, mlp_dim, dropout, activation="gelu",
                                        batch_first=True, norm_first=True)
        self.encoder = TransformerEncoder(layer, depth, norm=LayerNorm(dim),
                                          enable_nested_tensor=False)
        self.head = Linear(dim, num_classes)
        init.normal_(self.cls_token, 0.0, 0.02)

    def tokens(self, x: Tensor) -> Tensor:
        """(N, C, H, W) -> (N, 1 + patches, E): [CLS] and the patch embeddings, with positions."""
        patches = transpose(flatten(self.patch_embed(x), 2), 1, 2)  # (N, patches, E)
        cls = expand(self.cls_token, (x.shape[0], 1, self.cls_token.shape[-1]))
        return self.pos_embed(cat([cls, patches], 1))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.encoder(self.tokens(x))[:, 0])
