"""Reference embeddings for all-MiniLM-L6-v2, computed the way
sentence-transformers does: HF tokenizers with the model's tokenizer.json
(truncation at 256 tokens, no padding), ONNX Runtime, mean pooling over the
attention mask, L2 normalisation.

Usage: reference.py MODEL_DIR < sentences (one per line) > JSON
Output: {"ids": [[token ids]...], "vectors": [[floats]...]}
"""
import json
import sys

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer


def main() -> None:
    model_dir = sys.argv[1]
    tok = Tokenizer.from_file(f"{model_dir}/tokenizer.json")
    tok.no_padding()
    tok.enable_truncation(256)
    sess = ort.InferenceSession(f"{model_dir}/model.onnx", providers=["CPUExecutionProvider"])
    inputs = {i.name for i in sess.get_inputs()}
    sentences = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    ids, vectors = [], []
    for s in sentences:
        enc = tok.encode(s)
        feed = {
            "input_ids": np.array([enc.ids], dtype=np.int64),
            "attention_mask": np.array([enc.attention_mask], dtype=np.int64),
        }
        if "token_type_ids" in inputs:
            feed["token_type_ids"] = np.array([enc.type_ids], dtype=np.int64)
        hidden = sess.run(None, feed)[0][0]
        mask = np.array(enc.attention_mask, dtype=np.float32)[:, None]
        v = (hidden * mask).sum(axis=0) / mask.sum()
        v = v / np.linalg.norm(v)
        ids.append(enc.ids)
        vectors.append([float(x) for x in v])
    json.dump({"ids": ids, "vectors": vectors}, sys.stdout)


if __name__ == "__main__":
    main()
