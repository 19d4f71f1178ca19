"""vaert's Barnes-Hut t-SNE against scikit-learn's TSNE on the same latent vectors, in one run.

Usage: python tools/bench/tsne-vs-sklearn.py VAERT_TSNE.csv VAERT_PCA.csv SECONDS [THREADS]
The CSVs are `decode-cli latent-map --method tsne|pca --coords` output (index, label, x, y, z0...), from
the same model and images; SECONDS is the time vaert printed for its t-SNE. scikit-learn gets the z columns,
perplexity 30, PCA start, Barnes-Hut at angle 0.5, 1000 iterations (its defaults), THREADS threads.

Every quality figure is computed here, the same way for both embeddings:
  - KL(P || Q) exactly, with P from scikit-learn's own affinities of z (its `_joint_probabilities_nn` over
    3 * perplexity + 1 neighbours) and Q's normaliser summed over all pairs;
  - trustworthiness at k = 10 (sklearn.manifold.trustworthiness, against z);
  - 10-NN class accuracy: each point's label against the majority of its 10 nearest other points.
"""
import csv
import sys
import time

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.manifold import TSNE, trustworthiness
from sklearn.manifold._t_sne import _joint_probabilities_nn
from sklearn.neighbors import NearestNeighbors


def read(path):
    with open(path) as f:
        rows = list(csv.reader(f))
    header, body = rows[0], np.array(rows[1:], dtype=np.float64)
    z_columns = [i for i, name in enumerate(header) if name.startswith("z")]
    return body[:, 1].astype(int), body[:, 2:4], body[:, z_columns]


def exact_kl(p, y):
    d2 = ((y[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    w = 1.0 / (1.0 + d2)
    np.fill_diagonal(w, 0.0)
    z = w.sum()
    p = p.tocoo()
    q = w[p.row, p.col] / z
    return float((p.data * np.log(p.data / q)).sum())


def knn_accuracy(points, labels, k=10):
    _, index = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)
    votes = labels[index[:, 1:]]
    predicted = np.array([np.bincount(v, minlength=labels.max() + 1).argmax() for v in votes])
    return float((predicted == labels).mean())


def main():
    tsne_csv, pca_csv, vaert_seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    threads = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    labels, ours, z = read(tsne_csv)
    _, pca, _ = read(pca_csv)
    perplexity = 30.0

    start = time.perf_counter()
    model = TSNE(n_components=2, perplexity=perplexity, init="pca", method="barnes_hut", angle=0.5,
                 max_iter=1000, random_state=0, n_jobs=threads)
    theirs = model.fit_transform(z.astype(np.float32))
    sklearn_seconds = time.perf_counter() - start

    k = min(len(z) - 1, int(3.0 * perplexity + 1))
    distances, neighbours = NearestNeighbors(n_neighbors=k).fit(z).kneighbors()  # each point without itself
    graph = csr_matrix((distances.ravel() ** 2, neighbours.ravel(), np.arange(0, len(z) * k + 1, k)), shape=(len(z), len(z)))
    p = _joint_probabilities_nn(graph, perplexity, 0)

    kl_ours, kl_theirs = exact_kl(p, ours), exact_kl(p, theirs.astype(np.float64))
    trust_ours, trust_theirs = trustworthiness(z, ours, n_neighbors=10), trustworthiness(z, theirs, n_neighbors=10)
    print(f"points: {len(z)}, latent dimensions: {z.shape[1]}, threads: {threads}")
    print("| what | vaert | scikit-learn | vaert / scikit-learn |")
    print("| --- | --- | --- | --- |")
    print(f"| t-SNE time, s | {vaert_seconds:.2f} | {sklearn_seconds:.2f} | {vaert_seconds / sklearn_seconds:.2f} |")
    print(f"| KL divergence (exact, scikit-learn's P) | {kl_ours:.4f} | {kl_theirs:.4f} | {kl_ours / kl_theirs:.3f} |")
    print(f"| KL divergence scikit-learn reports (Barnes-Hut) | - | {model.kl_divergence_:.4f} | |")
    print(f"| trustworthiness, k = 10 | {trust_ours:.4f} | {trust_theirs:.4f} | {trust_ours - trust_theirs:+.4f} |")
    print(f"| 10-NN class accuracy in 2-d | {knn_accuracy(ours, labels):.4f} | {knn_accuracy(theirs, labels):.4f} | |")
    print(f"10-NN class accuracy: raw {z.shape[1]}-d latent {knn_accuracy(z, labels):.4f}, PCA {knn_accuracy(pca, labels):.4f}, "
          f"vaert t-SNE {knn_accuracy(ours, labels):.4f}; trustworthiness of PCA {trustworthiness(z, pca, n_neighbors=10):.4f}")


if __name__ == "__main__":
    main()
