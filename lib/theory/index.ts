/** The course's theory, live: convolution and pooling by hand, and a trained network seen from inside. */
export * from './convolution';
export * from './activations';
export * from './pictures';
