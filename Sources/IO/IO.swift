// Checkpoints and model files (HDF5, ONNX) arrive with their issues; the module exists now so
// that `import Synapse` has its final shape.
