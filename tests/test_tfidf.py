"""matcher.tfidf computes what scikit-learn's TfidfVectorizer(analyzer="char_wb",
sublinear_tf=True) computes (the lexical signal's scores are unchanged by leaving scikit-learn
out of the serving path), on real texts: the demo's order and worker texts, with diacritics,
CJK, German and edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from data.synthetic import generate
from matcher.text import fold
from matcher.tfidf import CharTfidf, EmptyVocabularyError

EDGE = ["", " ", "a", "ab", "abc", "x  y\tz\nw", "Thợ hàn MIG/TIG 3 năm", "溶接工 作業員", "Schweißer (m/w/d)",
        "CÔNG NHÂN may", "ĐIỆN TỬ điện tử", "a a a a b"]


def _texts() -> list[str]:
    data = generate(seed=3, workers=60, orders=60, recruiters=12)
    texts = [f"{o.title} {o.description or ''} {' '.join(o.required_skills or [])}" for o in data.orders]
    texts += [f"{w.full_name} {w.commune or ''} {' '.join(w.skills or [])}" for w in data.workers]
    return texts + EDGE


@pytest.mark.parametrize("lowercase,dtype,ngrams", [(True, np.float64, (2, 4)), (False, np.float32, (2, 4)),
                                                    (True, np.float64, (1, 3)), (True, np.float64, (3, 5))])
def test_same_matrix_as_scikit_learn(lowercase, dtype, ngrams):
    corpus = _texts()
    folded = [fold(t) for t in corpus]
    for texts in (corpus, folded):
        ref = TfidfVectorizer(analyzer="char_wb", ngram_range=ngrams, sublinear_tf=True, lowercase=lowercase, dtype=dtype)
        ours = CharTfidf(ngrams, lowercase=lowercase, dtype=dtype)
        a, b = ref.fit_transform(texts), ours.fit_transform(texts)
        assert ours.vocabulary_ == ref.vocabulary_
        assert b.dtype == dtype and b.shape == a.shape
        assert abs(a - b).max() < (1e-6 if dtype == np.float32 else 1e-12)
        queries = ["thợ hàn", "han", "unseen qqq", "", "溶接", *texts[:20]]
        assert abs(ref.transform(queries) - ours.transform(queries)).max() < 1e-6
        assert np.allclose(ours.idf_, ref.idf_)


def test_rows_are_unit_length_and_unknown_text_is_a_zero_row():
    m = CharTfidf().fit(["công nhân may", "thợ hàn"]).transform(["công nhân", "qqq", ""])
    norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
    assert norms[0] == pytest.approx(1.0) and norms[1] == 0 and norms[2] == 0


def test_empty_vocabulary_and_bad_range_are_refused():
    with pytest.raises(EmptyVocabularyError):
        CharTfidf().fit(["", "   "])
    with pytest.raises(ValueError, match="ngram_range"):
        CharTfidf((3, 2))
