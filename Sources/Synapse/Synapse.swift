// `import Synapse` brings in the whole framework.
@_exported import Core
@_exported import Data
@_exported import IO
@_exported import NN
@_exported import Optim
@_exported import Training
