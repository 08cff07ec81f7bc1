"""One measured run of the course's loading code: pandas.read_csv, then iloc to a NumPy array. Prints a JSON line."""
import json
import resource
import sys
import time

import numpy as np
import pandas as pd

file = sys.argv[1]
started = time.perf_counter()
frame = pd.read_csv(file)
parsed = time.perf_counter()
X = np.array(frame.iloc[:, 1:])
y = np.array(frame.iloc[:, 0])
done = time.perf_counter()
print(json.dumps({
    "rows": int(X.shape[0]),
    "parseSeconds": parsed - started,
    "ilocSeconds": done - parsed,
    "totalSeconds": done - started,
    "peakRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "pandas": pd.__version__,
}))
