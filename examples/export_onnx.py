"""Train a small CNN on the 8x8 digits, export it to ONNX and run the file with onnxruntime.

Topics: deployment; the trained model as a static graph (the ops one forward pass ran, traced
in eval mode: dropout off, batch norm on its running statistics); named inputs and outputs;
a dynamic batch dim; checking the exported file against the framework (same predictions,
outputs equal to float32 rounding). Needs the `onnx` extra (pip install nabla[onnx]).
Measured (10 epochs): 99.4% test accuracy in onnxruntime, the same class as nabla for all 360
test images, largest logit difference 3e-6; the 360 images in 5.6 ms (nabla 10.7 ms).
Run: python examples/export_onnx.py [--fast]
"""

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import nabla
import nabla.nn.functional as F
from nabla.models import ConvNet
from nabla.utils.data import DataLoader, TensorDataset, load_digits


def main(epochs: int = 10, out: str | None = None, verbose: bool = True) -> dict:
    import onnxruntime as ort

    nabla.manual_seed(0)
    X_train, y_train, X_test, y_test = load_digits(flatten=False)  # (N, 1, 8, 8)
    train = DataLoader(TensorDataset(nabla.tensor(X_train), nabla.tensor(y_train)),
                       batch_size=64, shuffle=True)
    model = ConvNet(in_channels=1, num_classes=10, channels=(16, 32), pool_size=2, dropout=0.2)
    optimizer = nabla.optim.Adam(model.parameters(), lr=2e-3)
    for _ in range(epochs):
        model.train()
        for xb, yb in train:
            loss = F.cross_entropy(model(xb), yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

    path = Path(out or tempfile.mkdtemp()) / "digits_cnn.onnx"
    nabla.onnx.export(model, nabla.tensor(X_test[:1]), path, input_names=["image"],
                      output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    model.eval()
    start = time.perf_counter()
    with nabla.no_grad():
        ours = model(nabla.tensor(X_test)).numpy()
    nabla_s = time.perf_counter() - start
    start = time.perf_counter()
    (theirs,) = session.run(None, {"image": X_test})  # all 360 images: the batch dim is free
    ort_s = time.perf_counter() - start
    result = {
        "accuracy": float((theirs.argmax(1) == y_test).mean()),
        "same_predictions": float((theirs.argmax(1) == ours.argmax(1)).mean()),
        "max_abs_diff": float(np.abs(theirs - ours).max()),
        "file_kb": path.stat().st_size / 1024,
    }
    if verbose:
        print(f"wrote {path} ({result['file_kb']:.0f} KiB)")
        print(f"onnxruntime: test accuracy {result['accuracy']:.4f}, same class as nabla for "
              f"{result['same_predictions']:.1%} of the images, largest logit difference "
              f"{result['max_abs_diff']:.1e}")
        print(f"360 images: nabla {nabla_s * 1e3:.1f} ms, onnxruntime {ort_s * 1e3:.1f} ms")
    return result


if __name__ == "__main__":
    main(epochs=1 if "--fast" in sys.argv else 10)
