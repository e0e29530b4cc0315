"""A generated captioning set: one or two coloured shapes and where they stand to each other.

`write_shapes(root, {"train": 3000, "test": 200})` writes `root/<split>/images/*.png|jpg` and
`root/<split>/captions.tsv` in the contract's layout. Two-shape images have two captions that
say the same thing from either side ("a red circle left of a blue square" / "a blue square
right of a red circle"), so a model must get colours, shapes and the relation right;
`meaning(caption)` reads a caption back into a comparable form.
"""

import csv
import random
from pathlib import Path

from PIL import Image
from PIL import ImageDraw

COLOURS = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (50, 80, 220),
    "yellow": (230, 200, 30),
}
SHAPES = ("circle", "square", "triangle")
INVERSE = {"left of": "right of", "right of": "left of", "above": "below", "below": "above"}


def _draw(draw: ImageDraw.ImageDraw, shape: str, colour: str, box: tuple) -> None:
    x0, y0, x1, y1 = box
    fill = COLOURS[colour]
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    else:
        draw.polygon([((x0 + x1) / 2, y0), (x1, y1), (x0, y1)], fill=fill)


def make_image(rng: random.Random, size: int, shapes: int = 2) -> tuple[Image.Image, list[str]]:
    """One image with one shape, or up to `shapes` shapes, and its captions."""
    background = tuple(rng.randint(225, 255) for _ in range(3))
    image = Image.new("RGB", (size, size), background)
    draw = ImageDraw.Draw(image)
    count = rng.choice((1, 2)) if shapes == 2 else 1
    objects = [(rng.choice(list(COLOURS)), rng.choice(SHAPES)) for _ in range(count)]
    side = size // 3
    if len(objects) == 1:
        x, y = rng.randint(0, size - side), rng.randint(0, size - side)
        _draw(draw, objects[0][1], objects[0][0], (x, y, x + side, y + side))
        return image, [f"a {objects[0][0]} {objects[0][1]}"]
    while objects[0] == objects[1]:
        objects[1] = (rng.choice(list(COLOURS)), rng.choice(SHAPES))
    relation = rng.choice(list(INVERSE))
    half = size // 2
    for index, (colour, shape) in enumerate(objects):
        first = index == 0 if relation in ("left of", "above") else index == 1
        along = rng.randint(0, half - side) + (0 if first else half)
        across = rng.randint(0, size - side)
        x, y = (along, across) if relation in ("left of", "right of") else (across, along)
        _draw(draw, shape, colour, (x, y, x + side, y + side))
    (c1, s1), (c2, s2) = objects
    return image, [
        f"a {c1} {s1} {relation} a {c2} {s2}",
        f"a {c2} {s2} {INVERSE[relation]} a {c1} {s1}",
    ]


def write_shapes(
    root: Path, counts: dict[str, int], size: int = 64, seed: int = 0, shapes: int = 2
) -> Path:
    """The data set in the contract's folder layout; PNG and JPEG files alternate.

    `shapes=1` draws a single shape per image (an easier set for quick tests).
    """
    rng = random.Random(seed)
    for split, count in counts.items():
        folder = Path(root) / split / "images"
        folder.mkdir(parents=True, exist_ok=True)
        with open(Path(root) / split / "captions.tsv", "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f, delimiter="\t")
            writer.writerow(["image", "caption"])
            for i in range(count):
                image, captions = make_image(rng, size, shapes)
                name = f"{split}_{i:05d}.{'png' if i % 2 else 'jpg'}"
                image.save(folder / name, quality=95) if name.endswith("jpg") else image.save(
                    folder / name
                )
                for caption in captions:
                    writer.writerow([name, caption])
    return Path(root)


def meaning(caption: str) -> tuple:
    """`(object,)` or `(object, relation, object)` with the relation put as left of / above."""
    words = caption.lower().replace(".", " ").split()
    text = " ".join(words)
    for relation in INVERSE:
        if f" {relation} " in f" {text} ":
            left, right = text.split(f" {relation} ", 1)
            a, b = tuple(left.split()[-2:]), tuple(right.split()[-2:])
            if relation in ("right of", "below"):
                return (b, INVERSE[relation], a)
            return (a, relation, b)
    return (tuple(words[-2:]),)


def meaning_accuracy(generated: dict[str, str], references: dict[str, list[str]]) -> float:
    """Share of images whose generated caption means what their first reference means."""
    right = sum(meaning(generated[name]) == meaning(refs[0]) for name, refs in references.items())
    return right / max(len(references), 1)
