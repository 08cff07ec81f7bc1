"""The course's photo preprocessing with Pillow, to compare lib/preprocess against.

Usage: python pillow_reference.py [--as-course] IMAGE...
Prints the Pillow version on the first line, then one JSON object per image:
{"canvas": [784 ints, the 28x28 canvas before inversion], "input": [784 floats, the model's input]}
(or {"error": "..."} when Pillow cannot open the image).

The three course functions are copied as the course writes them. Before them come the two
deliberate improvements of lib/preprocess, so that the comparison is like for like: the EXIF
orientation is applied, and transparent pixels are laid over white. With --as-course, images are
opened exactly as the course does (no orientation, alpha dropped by convert("L")), to compare with
lib/preprocess's `asPythonCourse` option.
"""
import json
import warnings
import sys

import numpy as np
import PIL
from PIL import Image, ImageFilter, ImageOps

# The course calls getdata(), deprecated in Pillow 12: keep its code, silence the notice.
warnings.filterwarnings("ignore", category=DeprecationWarning)


def resize_with_aspect_ratio(image, target_size):
    width, height = image.size
    if width > height:
        new_width = target_size
        new_height = max(1, round(target_size * height / width))
    else:
        new_height = target_size
        new_width = max(1, round(target_size * width / height))
    return image.resize((new_width, new_height), Image.LANCZOS).filter(ImageFilter.SHARPEN)


def create_centered_image(img, target_size=28):
    canvas = Image.new("L", (target_size, target_size), 255)
    img_width, img_height = img.size
    x_offset = (target_size - img_width) // 2
    y_offset = (target_size - img_height) // 2
    canvas.paste(img, (x_offset, y_offset))
    return canvas


def normalize_pixels(canvas):
    pixels = np.array(canvas.getdata(), dtype=np.float32)
    return ((255 - pixels) / 255.0).reshape(1, 28, 28, 1)


def open_like_lib_preprocess(path):
    image = ImageOps.exif_transpose(Image.open(path))
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, (255, 255, 255))
        white.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
        image = white
    return image


def preprocess(path, as_course=False):
    image = (Image.open(path) if as_course else open_like_lib_preprocess(path)).convert("L")
    canvas = create_centered_image(resize_with_aspect_ratio(image, 20), 28)
    return {"canvas": list(canvas.tobytes()), "input": normalize_pixels(canvas).reshape(-1).tolist()}


if __name__ == "__main__":
    print(json.dumps({"pillow": PIL.__version__}))
    as_course = "--as-course" in sys.argv[1:]
    for path in [arg for arg in sys.argv[1:] if arg != "--as-course"]:
        try:
            print(json.dumps(preprocess(path, as_course)))
        except Exception as error:  # one bad file must not hide the others' results
            print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.stdout.flush()
