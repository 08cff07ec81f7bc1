"""Child of `npm run bench:train`: the same course model and settings in Keras, one JSON line.

Usage: python bench/train_keras.py <one-conv|four-conv> <epochs> <batch> <train.csv> <test.csv>
The 80/20 split is scikit-learn's train_test_split(test_size=0.2, random_state=13) (a NumPy
RandomState permutation), written out so scikit-learn is not needed.
"""
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402


def load(path):
    frame = pd.read_csv(path)
    labels = frame.iloc[:, 0].to_numpy()
    images = frame.iloc[:, 1:].to_numpy(dtype="float32").reshape(-1, 28, 28, 1) / 255.0
    return images, keras.utils.to_categorical(labels, 10)


def split(count, test_size=0.2, seed=13):
    n_test = int(np.ceil(test_size * count))
    permutation = np.random.RandomState(seed).permutation(count)
    return permutation[n_test:], permutation[:n_test]


def one_conv():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.MaxPooling2D(2),
        layers.Dropout(0.2),
        layers.Flatten(),
        layers.Dense(128, activation="relu"),
        layers.Dense(10, activation="softmax"),
    ])


def four_conv():
    return keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.Conv2D(32, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Conv2D(64, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.Dropout(0.25),
        layers.Conv2D(128, 3, activation="relu"),
        layers.BatchNormalization(),
        layers.MaxPooling2D(2),
        layers.Dropout(0.25),
        layers.Flatten(),
        layers.Dense(512, activation="relu"),
        layers.BatchNormalization(),
        layers.Dropout(0.5),
        layers.Dense(128, activation="relu"),
        layers.BatchNormalization(),
        layers.Dropout(0.5),
        layers.Dense(10, activation="softmax"),
    ])


class EpochTimer(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.seconds.append(time.perf_counter() - self.started)


def main():
    name, epochs, batch, train_csv, test_csv = sys.argv[1:6]
    x, y = load(train_csv)
    train, validation = split(len(x))
    x_test, y_test = load(test_csv)
    model = {"one-conv": one_conv, "four-conv": four_conv}[name]()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    timer = EpochTimer()
    started = time.perf_counter()
    model.fit(x[train], y[train], batch_size=int(batch), epochs=int(epochs),
              validation_data=(x[validation], y[validation]), callbacks=[timer], verbose=2)
    fit_seconds = time.perf_counter() - started
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(json.dumps({"side": "keras", "epochSeconds": timer.seconds, "fitSeconds": fit_seconds,
                      "testLoss": float(loss), "testAccuracy": float(accuracy),
                      "version": f"Keras {keras.__version__}, TensorFlow {tf.__version__}"}))


if __name__ == "__main__":
    main()
