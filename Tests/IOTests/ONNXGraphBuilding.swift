@testable import IO

// Small ONNX graphs built in code, for the tests that hand the loader graphs no exporter
// writes (hostile ones, and ones shaped for one inference rewrite).

func onnxNode(_ op: String, _ inputs: [String], _ outputs: [String], _ attributes: [Onnx_AttributeProto] = []) -> Onnx_NodeProto {
    var node = Onnx_NodeProto()
    node.opType = op
    node.input = inputs
    node.output = outputs
    node.attribute = attributes
    return node
}

/// A float32 value of these dimensions (`nil`: a symbolic "batch").
func onnxValue(_ name: String, _ dims: [Int64?]) -> Onnx_ValueInfoProto {
    var info = Onnx_ValueInfoProto()
    info.name = name
    info.type.tensorType.elemType = 1
    info.type.tensorType.shape.dim = dims.map { size in
        var dim = Onnx_TensorShapeProto.Dimension()
        if let size { dim.dimValue = size } else { dim.dimParam = "batch" }
        return dim
    }
    return info
}

/// A model of IR version 10 importing the default domain at `opset`.
func onnxModel(
    _ nodes: [Onnx_NodeProto], initializers: [Onnx_TensorProto], inputs: [Onnx_ValueInfoProto], outputs: [Onnx_ValueInfoProto], opset: Int64
) -> Onnx_ModelProto {
    var model = Onnx_ModelProto()
    model.irVersion = 10
    var domain = Onnx_OperatorSetIdProto()
    domain.version = opset
    model.opsetImport = [domain]
    model.graph.node = nodes
    model.graph.initializer = initializers
    model.graph.input = inputs
    model.graph.output = outputs
    return model
}
