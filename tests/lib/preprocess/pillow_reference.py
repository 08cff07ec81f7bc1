"""The course's preprocessing with Pillow (lab 001), for comparing against lib/preprocess.
Reads image paths from argv, prints one JSON line per image: the 28x28 canvas before inversion."""
import json
import sys

from PIL import Image, ImageFilter


def preprocess(path, target_size=28, content_size=20):
    image = Image.open(path)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        # lib/preprocess composites transparency onto white (the course's convert('L') ignores alpha).
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(white, rgba)
    image = image.convert("L")
    width, height = image.size
    if width > height:
        new_width, new_height = content_size, max(1, round(content_size * height / width))
    else:
        new_height, new_width = content_size, max(1, round(content_size * width / height))
    resized = image.resize((new_width, new_height), Image.LANCZOS).filter(ImageFilter.SHARPEN)
    canvas = Image.new("L", (target_size, target_size), 255)
    canvas.paste(resized, ((target_size - new_width) // 2, (target_size - new_height) // 2))
    return list(canvas.tobytes())


for path in sys.argv[1:]:
    print(json.dumps(preprocess(path)))
