// Fashion-MNIST's ten classes, in label order (from Zalando Research's README).
export const fashionMnistClasses: readonly string[] = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];
