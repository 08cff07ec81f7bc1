/** Class names of the data sets, in French as the course prints them. */

/** The ten Fashion-MNIST classes, indexed by label, worded as the lab prints its predictions. */
export const FASHION_CLASSES: readonly string[] = [
  'Un T-shirt/haut',
  'Un pantalon',
  'Un pull',
  'Une robe',
  'Un manteau',
  'Des sandales',
  'Une chemise',
  'Des baskets',
  'Un sac',
  'Des bottes de cheville',
];

/** The ten MNIST digit classes. */
export const DIGIT_CLASSES: readonly string[] = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];

/** Side of the square images, in pixels (28 for both data sets). */
export const IMAGE_SIDE = 28;

/** Pixels per image (28 x 28). */
export const IMAGE_PIXELS = IMAGE_SIDE * IMAGE_SIDE;
