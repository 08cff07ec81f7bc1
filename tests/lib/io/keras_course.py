"""Test fixture: the Python edition of the course, in Keras 3.

  python keras_course.py train OUTPUT DATAS   trains the course's 1-conv and 4-conv models (with
      batch normalisation) for one epoch on the first 3000 training images, saves each the course's
      way (OUTPUT/<name>/modele.json from to_json(), modele.weights.h5 from save_weights()) and as
      OUTPUT/<name>.keras, and writes OUTPUT/predictions.json: Keras' probabilities on the first 100
      test images, and each model's evaluate() on the 10 000.
  python keras_course.py predict FOLDER DATAS  opens FOLDER/modele.json + modele.weights.h5 with the
      course's test_model code (model_from_json, load_weights) and FOLDER/modele.keras with
      load_model, and prints their probabilities on the first 100 test images as JSON.
  python keras_course.py hostile OUTPUT        writes hostile HDF5 files (external link, virtual
      dataset, external raw data, huge declared dataset) next to a valid description.
"""
import itertools
import json
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import warnings  # noqa: E402

warnings.filterwarnings("ignore")
import numpy as np  # noqa: E402


def read_csv(path, rows):
    with open(path) as stream:
        next(stream)
        lines = list(itertools.islice(stream, rows))
    data = np.array([[int(v) for v in line.split(",")] for line in lines])
    x = (data[:, 1:].reshape(-1, 28, 28, 1).astype("float32")) / 255
    return x, data[:, 0]


def course_models():
    import keras
    from keras.layers import BatchNormalization, Conv2D, Dense, Dropout, Flatten, Input, MaxPooling2D
    from keras.models import Sequential

    dimentionImage = (28, 28, 1)
    reseauNeurone1Convolution = Sequential()
    reseauNeurone1Convolution.add(Input(shape=dimentionImage))
    reseauNeurone1Convolution.add(Conv2D(32, kernel_size=(3, 3), activation="relu"))
    reseauNeurone1Convolution.add(MaxPooling2D(pool_size=(2, 2)))
    reseauNeurone1Convolution.add(Dropout(0.2))
    reseauNeurone1Convolution.add(Flatten())
    reseauNeurone1Convolution.add(Dense(128, activation="relu"))
    reseauNeurone1Convolution.add(Dense(10, activation="softmax"))

    reseauNeurones4Convolution = Sequential()
    reseauNeurones4Convolution.add(Conv2D(32, kernel_size=(3, 3), activation="relu", input_shape=dimentionImage))
    reseauNeurones4Convolution.add(BatchNormalization())
    reseauNeurones4Convolution.add(Conv2D(32, kernel_size=(3, 3), activation="relu"))
    reseauNeurones4Convolution.add(BatchNormalization())
    reseauNeurones4Convolution.add(MaxPooling2D(pool_size=(2, 2)))
    reseauNeurones4Convolution.add(Dropout(0.25))
    reseauNeurones4Convolution.add(Conv2D(64, kernel_size=(3, 3), activation="relu"))
    reseauNeurones4Convolution.add(BatchNormalization())
    reseauNeurones4Convolution.add(Dropout(0.25))
    reseauNeurones4Convolution.add(Conv2D(128, kernel_size=(3, 3), activation="relu"))
    reseauNeurones4Convolution.add(BatchNormalization())
    reseauNeurones4Convolution.add(MaxPooling2D(pool_size=(2, 2)))
    reseauNeurones4Convolution.add(Dropout(0.25))
    reseauNeurones4Convolution.add(Flatten())
    reseauNeurones4Convolution.add(Dense(512, activation="relu"))
    reseauNeurones4Convolution.add(BatchNormalization())
    reseauNeurones4Convolution.add(Dropout(0.5))
    reseauNeurones4Convolution.add(Dense(128, activation="relu"))
    reseauNeurones4Convolution.add(BatchNormalization())
    reseauNeurones4Convolution.add(Dropout(0.5))
    reseauNeurones4Convolution.add(Dense(10, activation="softmax"))
    return {"one-conv": reseauNeurone1Convolution, "four-conv": reseauNeurones4Convolution}


def train(output, datas):
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(13)
    x, labels = read_csv(os.path.join(datas, "fashion-mnist_train.csv"), 3000)
    y = tf.keras.utils.to_categorical(labels, 10)
    x_test, test_labels = read_csv(os.path.join(datas, "fashion-mnist_test.csv"), 10000)
    y_test = tf.keras.utils.to_categorical(test_labels, 10)
    result = {"input": x_test[:100].reshape(-1).tolist(), "predictions": {}, "evaluate": {}}
    for name, model in course_models().items():
        model.compile(loss=keras.losses.categorical_crossentropy, optimizer=tf.keras.optimizers.Adam(), metrics=["accuracy"])
        model.fit(x, y, batch_size=256, epochs=1, verbose=0)
        folder = os.path.join(output, name)
        os.makedirs(folder, exist_ok=True)
        # The course's save, word for word.
        model_json = model.to_json()
        with open(os.path.join(folder, "modele.json"), "w") as json_file:
            json_file.write(model_json)
        model.save_weights(os.path.join(folder, "modele.weights.h5"))
        model.save(os.path.join(output, f"{name}.keras"))
        result["predictions"][name] = model.predict(x_test[:100], verbose=0).tolist()
        loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
        result["evaluate"][name] = {"loss": float(loss), "accuracy": float(accuracy)}
    with open(os.path.join(output, "predictions.json"), "w") as stream:
        json.dump(result, stream)


def predict(folder, datas):
    x_test, _ = read_csv(os.path.join(datas, "fashion-mnist_test.csv"), 100)
    # The course's test_model code.
    fichier_json = open(os.path.join(folder, "modele.json"), "r")
    modele_json = fichier_json.read()
    fichier_json.close()
    from keras.models import model_from_json

    modele = model_from_json(modele_json)
    modele.load_weights(os.path.join(folder, "modele.weights.h5"))
    import keras

    archive = keras.models.load_model(os.path.join(folder, "modele.keras"))
    print(json.dumps({"json": modele.predict(x_test, verbose=0).tolist(), "keras": archive.predict(x_test, verbose=0).tolist()}))


def hostile(output):
    import h5py

    def weights(name, make):
        folder = os.path.join(output, name)
        os.makedirs(folder, exist_ok=True)
        with open(os.path.join(folder, "modele.json"), "w") as stream:
            json.dump(json.load(open(os.path.join(output, "description.json"))), stream)
        with h5py.File(os.path.join(folder, "modele.weights.h5"), "w") as f:
            group = f.create_group("layers/dense/vars")
            group["1"] = np.zeros(2, dtype="f4")  # the bias is sound: the kernel is the hostile one
            make(group)

    weights("lien-externe", lambda g: g.__setitem__("0", h5py.ExternalLink("/etc/passwd", "/x")))
    weights("donnees-externes", lambda g: g.create_dataset("0", shape=(4, 2), dtype="f4", external=[("/etc/passwd", 0, h5py.h5f.UNLIMITED)]))
    layout = h5py.VirtualLayout(shape=(4, 2), dtype="f4")
    layout[:] = h5py.VirtualSource("/etc/autre.h5", "secret", shape=(4, 2))
    weights("virtuel", lambda g: g.create_virtual_dataset("0", layout))
    weights("enorme", lambda g: g.create_dataset("0", shape=(100000, 100000, 100), dtype="f4", chunks=(10, 10, 10)))


if __name__ == "__main__":
    {"train": lambda: train(sys.argv[2], sys.argv[3]), "predict": lambda: predict(sys.argv[2], sys.argv[3]), "hostile": lambda: hostile(sys.argv[2])}[sys.argv[1]]()
