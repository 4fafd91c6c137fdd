"""Row blocks: they cover every row once, threads change no sum, BLAS is capped in threads."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_em._blocks import (
    blas_threads,
    block_slices,
    map_blocks,
    reduce_blocks,
    single_blas_thread,
    threads_for,
)


@pytest.mark.parametrize("n_rows, row_bytes", [(0, 8), (1, 8), (1000, 8), (100_003, 4096)])
def test_slices_cover_every_row_once(n_rows, row_bytes):
    slices = block_slices(n_rows, row_bytes, block_bytes=65536)
    covered = np.concatenate([np.arange(n_rows)[s] for s in slices]) if slices else []
    np.testing.assert_array_equal(covered, np.arange(n_rows))
    assert all(s.stop - s.start >= min(64, n_rows) for s in slices[:-1])


@pytest.mark.parametrize("n_threads", [1, 2, 3])
def test_map_keeps_order_and_reduce_sums_everything(n_threads):
    values = np.random.default_rng(0).normal(size=10_000)
    slices = block_slices(values.size, 8, block_bytes=512)
    assert len(slices) > 4 * n_threads  # several windows of blocks
    parts = map_blocks(lambda s: values[s].copy(), slices, n_threads)
    np.testing.assert_array_equal(np.concatenate(parts), values)
    total = reduce_blocks(
        lambda s: np.array([values[s].sum(), s.stop - s.start]), slices, n_threads
    )
    np.testing.assert_allclose(total, [values.sum(), values.size])


def _blas_thread_counts():
    return {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}


def test_blas_is_capped_at_one_thread_only_inside_the_context():
    before = _blas_thread_counts()
    with single_blas_thread(True):
        assert _blas_thread_counts() == {1}
    with single_blas_thread(False):
        assert _blas_thread_counts() == before
    assert _blas_thread_counts() == before


def test_default_threads_follow_the_blas_limits():
    assert blas_threads() == max(_blas_thread_counts()) == threads_for(None)
    with threadpool_limits(limits=1, user_api="blas"):
        assert blas_threads() == threads_for(None) == 1
        assert threads_for(2) == 2


@pytest.mark.parametrize("failing_block", [0, 7, 39])
def test_an_error_in_any_thread_reaches_the_caller_and_blas_is_restored(failing_block):
    before = _blas_thread_counts()
    slices = block_slices(40 * 64, 8, block_bytes=512)
    ran = []

    def block(s):
        ran.append(s.start)
        if s.start == slices[failing_block].start:
            raise ValueError("bad block")
        return 1

    with pytest.raises(ValueError, match="bad block"):
        reduce_blocks(block, slices, n_threads=2)
    assert _blas_thread_counts() == before
    settled = len(ran)
    assert reduce_blocks(lambda s: 1, slices, n_threads=2) == len(slices)
    assert len(ran) == settled  # no block of the failed run went on in the background


@pytest.mark.parametrize("capped_on_the_main_thread_first", [False, True])
def test_overlapping_caps_from_many_threads_restore_the_limits_from_before(
    capped_on_the_main_thread_first,
):
    if capped_on_the_main_thread_first:
        # threadpoolctl then let only the main thread change OpenBLAS: the
        # workers' cap did nothing.
        with single_blas_thread(True):
            pass
    with threadpool_limits(2, user_api="blas"):  # something to cap, on any machine
        _caps_from_threads_restore(_blas_thread_counts())


def _caps_from_threads_restore(before):
    import threading

    entered = threading.Barrier(8)
    inside = []

    def hold():
        with single_blas_thread(True):
            entered.wait()  # all eight hold the cap at once, then leave in any order
            inside.append(_blas_thread_counts())
            entered.wait()

    threads = [threading.Thread(target=hold) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert inside == [{1}] * 8
    assert _blas_thread_counts() == before
    # The main thread can still set the limits after the workers' cap.
    with threadpool_limits(1, user_api="blas"):
        assert _blas_thread_counts() == {1}
    assert _blas_thread_counts() == before


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_concurrent_predictions_leave_blas_as_it_was():
    from concurrent.futures import ThreadPoolExecutor

    from sklearn_em import GaussianMixture

    X = np.random.default_rng(0).normal(size=(40_000, 8))
    model = GaussianMixture(3, n_jobs=2, max_iter=2, random_state=0).fit(X)
    before = _blas_thread_counts()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: model.predict_proba(X), range(8)))
    assert _blas_thread_counts() == before
    for result in results[1:]:
        np.testing.assert_array_equal(result, results[0])
