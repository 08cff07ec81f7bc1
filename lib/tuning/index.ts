/**
 * Hyperparameter search (issue 6): a declared space, the tunable one-convolution CNN, random search
 * and successive halving, the training objective, the results table and saving the chosen model.
 */
export * from './space';
export * from './model';
export * from './search';
export * from './objective';
export * from './results';
