import CHDF5
import Core

/// Scalar attributes of a file's objects: strings, 64-bit integers and floats.
extension HDF5File {
    /// Sets attribute `name` of `object` to a UTF-8 string.
    func setAttribute(_ name: String, string value: String, on object: String = "/") throws {
        let type = try HDF5Handle(H5Tcopy(synapse_h5t_c_s1()), H5Tclose, path, object, "make a string type")
        try check(H5Tset_size(type.id, synapse_h5t_variable()), path, object, "make a string type")
        try check(H5Tset_cset(type.id, H5T_CSET_UTF8), path, object, "make a string type")
        try writeAttribute(name, type: type.id, on: object) { attribute in
            try value.withCString { pointer in
                var pointers: [UnsafePointer<CChar>?] = [pointer]
                return H5Awrite(attribute, type.id, &pointers)
            }
        }
    }

    /// Sets attribute `name` of `object` to a 64-bit integer.
    func setAttribute(_ name: String, integer value: Int64, on object: String = "/") throws {
        try writeAttribute(name, type: synapse_h5t_native_int64(), on: object) { attribute in
            var value = value
            return H5Awrite(attribute, synapse_h5t_native_int64(), &value)
        }
    }

    /// Sets attribute `name` of `object` to a 64-bit float.
    func setAttribute(_ name: String, double value: Double, on object: String = "/") throws {
        try writeAttribute(name, type: synapse_h5t_native_double(), on: object) { attribute in
            var value = value
            return H5Awrite(attribute, synapse_h5t_native_double(), &value)
        }
    }

    private func writeAttribute(
        _ name: String, type: hid_t, on object: String, _ write: (hid_t) throws -> herr_t
    ) throws {
        let space = try HDF5Handle(H5Screate(H5S_SCALAR), H5Sclose, path, object, "create a scalar dataspace")
        let attribute = try HDF5Handle(
            H5Acreate_by_name(id, object, name, type, space.id, synapse_h5p_default(), synapse_h5p_default(), synapse_h5p_default()),
            H5Aclose, path, object, "create attribute \(name)")
        try check(try write(attribute.id), path, object, "write attribute \(name)")
    }

    /// The names of the attributes of `object`.
    func attributeNames(of object: String = "/") throws -> [String] {
        let handle = try HDF5Handle(H5Oopen(id, object, synapse_h5p_default()), H5Oclose, path, object, "open object")
        var info = H5O_info_t()
        try check(H5Oget_info2(handle.id, &info, UInt32(H5O_INFO_NUM_ATTRS)), path, object, "read object info")
        return try (0..<info.num_attrs).map { index in
            let length = H5Aget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, nil, 0, synapse_h5p_default())
            guard length >= 0 else { throw HDF5Failure(file: path, object: object, operation: "list attributes") }
            var name = [CChar](repeating: 0, count: Int(length) + 1)
            _ = H5Aget_name_by_idx(handle.id, ".", H5_INDEX_NAME, H5_ITER_INC, index, &name, name.count, synapse_h5p_default())
            return String(decoding: name.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }

    /// The value of attribute `name` of `object`: a String, an Int64 or a Double; `nil` when
    /// there is no such attribute.
    func attribute(_ name: String, of object: String = "/") throws -> AttributeValue? {
        guard exists(object) || object == "/", H5Aexists_by_name(id, object, name, synapse_h5p_default()) > 0 else { return nil }
        let attribute = try HDF5Handle(
            H5Aopen_by_name(id, object, name, synapse_h5p_default(), synapse_h5p_default()), H5Aclose, path, object,
            "open attribute \(name)")
        let type = try HDF5Handle(H5Aget_type(attribute.id), H5Tclose, path, object, "read attribute type")
        let space = try HDF5Handle(H5Aget_space(attribute.id), H5Sclose, path, object, "read attribute shape")
        guard H5Sget_simple_extent_npoints(space.id) == 1 else { return .other("an array") }
        switch H5Tget_class(type.id) {
        case H5T_INTEGER:
            var value: Int64 = 0
            try check(H5Aread(attribute.id, synapse_h5t_native_int64(), &value), path, object, "read attribute \(name)")
            return .integer(value)
        case H5T_FLOAT:
            var value: Double = 0
            try check(H5Aread(attribute.id, synapse_h5t_native_double(), &value), path, object, "read attribute \(name)")
            return .double(value)
        case H5T_STRING:
            if H5Tis_variable_str(type.id) > 0 {
                var pointer: UnsafeMutablePointer<CChar>? = nil
                try check(H5Aread(attribute.id, type.id, &pointer), path, object, "read attribute \(name)")
                defer { H5free_memory(pointer) }
                return .string(pointer.map { String(cString: $0) } ?? "")
            }
            let size = H5Tget_size(type.id)
            var bytes = [CChar](repeating: 0, count: size + 1)
            try check(H5Aread(attribute.id, type.id, &bytes), path, object, "read attribute \(name)")
            return .string(String(cString: bytes))
        default:
            return .other("an HDF5 type of class \(H5Tget_class(type.id).rawValue)")
        }
    }
}

/// The value of a scalar attribute.
enum AttributeValue: Equatable {
    case string(String)
    case integer(Int64)
    case double(Double)
    /// Something Synapse does not write, described.
    case other(String)
}
