"""Shared helpers for the benchmark scripts: statistics, verdict lines, realistic pictures.

Benchmarks are measurements, not tests: every script prints its figures, a ratio
against a baseline measured in the same run on the same data, and a PASS or MISS
line, and exits 0 whatever the verdict.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter, ImageFont

# The vaults here use tiny key-derivation costs (unlocking is not what is measured);
# key files that small are read only with this set, as in the tests. Children inherit it.
os.environ.setdefault("ER_TESTS_USE_TINY_KDF", "1")

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # for xvfb.py (XvfbServer, painting the root window)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    # nearest-rank 95th percentile
    rank = max(1, round(0.95 * len(ordered) + 0.4999))
    return ordered[min(rank, len(ordered)) - 1]


def describe(label: str, values: list[float], unit: str = "s") -> str:
    return (f"  {label:<38} median {median(values):8.3f} {unit}   p95 {p95(values):8.3f} {unit}"
            f"   (n={len(values)})")


def verdict(name: str, ratio: float, limit: float, *, at_most: bool = True) -> bool:
    ok = ratio <= limit if at_most else ratio >= limit
    relation = "<=" if at_most else ">="
    print(f"RATIO {name}: {ratio:.2f}x   target {relation} {limit:g}x   "
          f"{'PASS' if ok else 'MISS'}")
    return ok


# --- realistic screen-like pictures --------------------------------------------------

_WORDS = ["the", "of", "and", "to", "in", "is", "you", "that", "it", "he", "was", "for", "on", "are", "as", "with", "his", "they", "at", "be", "this", "from", "have", "or", "by", "one", "had", "not", "but", "what", "all", "were", "when", "we", "there", "can", "an", "your", "which", "their", "said", "if", "do", "will", "each", "about", "how", "up", "out", "them", "then", "she", "many", "some", "so", "these", "would", "other", "into", "has", "more", "her", "two", "like", "him", "see", "time", "could", "no", "make", "than", "first", "been", "its", "who", "now", "people", "my", "made", "over", "did", "down", "only", "way", "find", "use", "may", "water", "long", "little", "very", "after", "words", "called", "just", "where", "most", "know", "get", "through", "back", "much", "go", "good", "new", "write", "our", "me", "man", "too", "any", "day", "same", "right", "look", "think", "also", "around", "another", "came", "come", "work", "three", "word", "must", "because", "does", "part", "even", "place", "well", "such", "here", "take", "why", "help", "put", "different", "away", "again", "off", "went", "old", "number", "great", "tell", "men", "say", "small", "every", "found", "still", "between", "name", "should", "home", "big", "give", "air", "line", "set", "own", "under", "read", "last"]


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    for name in ("DejaVuSans.ttf", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default()


class ScreenMaker:
    """Makes distinct screenshot-like pictures quickly, with Pillow only.

    Each picture has a vertical gradient background, a title bar, columns of anti-aliased
    text (different words per picture), a few "photos" (blurred noise upscaled, so
    smooth but never repeating) and some flat UI boxes: roughly what a social-media
    page looks like to a PNG encoder.
    """

    def __init__(self, width: int, height: int, seed: int = 1, photos: tuple[int, int] = (2, 5)
                 ) -> None:
        self.width, self.height = width, height
        self.photos = photos
        self.rng = random.Random(seed)
        self.font = _font(15)
        self.big = _font(22)
        # A pool of photo-like textures; each picture crops a different part of one.
        self.textures = []
        for _ in range(4):
            small = Image.effect_noise((width // 4, height // 4), 60).convert("RGB")
            tint = Image.new("RGB", small.size, tuple(self.rng.randrange(256) for _ in range(3)))
            small = Image.blend(small, tint, 0.45).filter(ImageFilter.GaussianBlur(1.2))
            self.textures.append(small.resize((width, height), Image.Resampling.BILINEAR))

    def _gradient(self) -> Image.Image:
        top = [self.rng.randrange(180, 256) for _ in range(3)]
        bottom = [self.rng.randrange(120, 220) for _ in range(3)]
        column = Image.new("RGB", (1, 256))
        column.putdata([tuple(top[c] + (bottom[c] - top[c]) * y // 255 for c in range(3))
                        for y in range(256)])
        return column.resize((self.width, self.height), Image.Resampling.BILINEAR)

    def make(self) -> Image.Image:
        rng, w, h = self.rng, self.width, self.height
        image = self._gradient()
        draw = ImageDraw.Draw(image)
        draw.rectangle((0, 0, w, 40), fill=(rng.randrange(40, 90),) * 3)
        draw.text((12, 8), " ".join(rng.choices(_WORDS, k=6)).title(), font=self.big,
                  fill=(240, 240, 240))
        # photos
        for _ in range(rng.randrange(*self.photos)):
            pw, ph = rng.randrange(w // 8, w // 3), rng.randrange(h // 8, h // 3)
            x, y = rng.randrange(0, w - pw), rng.randrange(40, h - ph)
            tex = rng.choice(self.textures)
            sx, sy = rng.randrange(0, w - pw), rng.randrange(0, h - ph)
            image.paste(tex.crop((sx, sy, sx + pw, sy + ph)), (x, y))
        # flat boxes (buttons, cards)
        for _ in range(rng.randrange(4, 10)):
            bw, bh = rng.randrange(60, 400), rng.randrange(20, 120)
            x, y = rng.randrange(0, w - bw), rng.randrange(40, h - bh)
            draw.rounded_rectangle((x, y, x + bw, y + bh), radius=6,
                                   fill=tuple(rng.randrange(200, 256) for _ in range(3)),
                                   outline=(150, 150, 150))
        # text columns
        columns = max(1, w // 640)
        for c in range(columns):
            x0 = 20 + c * (w // columns)
            y = 60 + rng.randrange(0, 40)
            colour = (rng.randrange(0, 60),) * 3
            while y < h - 20:
                line = " ".join(rng.choices(_WORDS, k=rng.randrange(6, 14)))
                draw.text((x0, y), line, font=self.font, fill=colour)
                y += 20 if rng.random() > 0.1 else 44
        return image


# --- vaults full of captures -----------------------------------------------------------

PASSPHRASE = "correct horse battery staple"


def _make_capture(args: tuple[int, int, int, int, tuple[int, int]]
                  ) -> tuple[bytes, tuple[bytes, bytes], bytes]:
    """In a worker process: one distinct PNG (zlib level 1, as the app writes), its
    report preview and its thumbnail, made as the app makes them (real JPEGs)."""
    import io

    from evidence_recorder.core.gather import images

    index, width, height, seed, photos = args
    maker = _worker_maker(width, height, seed, photos)
    picture = maker.make()
    ImageDraw.Draw(picture).text((width - 260, 10), f"capture #{index}", font=maker.big,
                                 fill=(255, 255, 0))
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=1)
    png = buffer.getvalue()
    preview, small, thumb = images.make_thumbnails(png, images.PREVIEW_SIDES,
                                                   quality=images.PREVIEW_QUALITY)
    return png, (preview, small), thumb


_MAKER: ScreenMaker | None = None


def _worker_maker(width: int, height: int, seed: int, photos: tuple[int, int]) -> ScreenMaker:
    global _MAKER
    if _MAKER is None:
        import os

        _MAKER = ScreenMaker(width, height, seed=seed + os.getpid(), photos=photos)
    return _MAKER


def build_vault(folder: Path, *, count: int | None = None, total_bytes: int | None = None,
                width: int = 1920, height: int = 1080, photos: tuple[int, int] = (5, 9),
                progress: bool = True) -> tuple[int, int]:
    """Create a vault (tiny KDF) and fill it with distinct screenshot-like captures.

    Stops after ``count`` captures or once ``total_bytes`` of originals are stored.
    Returns (captures, bytes of originals).
    """
    import hashlib
    import itertools
    import multiprocessing
    import time

    from evidence_recorder.core.gather import device
    from evidence_recorder.core.model import CaptureKind, iso_utc, utc_now
    from evidence_recorder.core.vault.keyfile import KdfParams
    from evidence_recorder.core.vault.store import Vault

    vault, _ = Vault.create(folder, PASSPHRASE, kdf=KdfParams(1, 8, 1))
    stored = stored_bytes = 0
    started = time.monotonic()
    jobs = ((i, width, height, 7, photos) for i in itertools.count())
    with multiprocessing.get_context("fork").Pool(max(1, (multiprocessing.cpu_count()))) as pool:
        for png, preview, thumb in pool.imap(_make_capture, jobs, chunksize=4):
            now = utc_now()
            vault.add_capture(
                original=png, sha256=hashlib.sha256(png).hexdigest(),
                kind=CaptureKind.SCREEN,
                width=width, height=height, media_type="image/png", captured_at=iso_utc(now),
                tz_name=device.local_zone_name(), utc_offset=device.utc_offset(now),
                environment={"benchmark": True}, thumbnail=thumb, previews=preview)
            stored += 1
            stored_bytes += len(png)
            if progress and stored % 100 == 0:
                print(f"    ... {stored} captures, {stored_bytes / 1e6:.0f} MB "
                      f"({time.monotonic() - started:.0f} s)", flush=True)
            if (count is not None and stored >= count) or \
                    (total_bytes is not None and stored_bytes >= total_bytes):
                pool.terminate()
                break
    vault.close()
    return stored, stored_bytes


def child_env(work: Path) -> dict[str, str]:
    """Environment for measured child processes: offscreen Qt, a private home, and
    bytecode caching ON, with the .pyc files kept in ``work`` (not the checkout).

    This machine sets PYTHONDONTWRITEBYTECODE=1, which makes every start compile the
    app's modules from source: an installed app never pays that, so neither does the
    measurement. The first (warm-up) run fills the cache.
    """
    import os

    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    for name in ("HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME",
                 "XDG_STATE_HOME", "XDG_RUNTIME_DIR"):
        (work / name).mkdir(mode=0o700, exist_ok=True)
        env[name] = str(work / name)
    return env
