# mcpreg_proto_library(NAME name PROTOS a.proto ... [DEPS target ...] [GRPC])
#
# A static library of messages generated from .proto files named relative to
# the calling directory, which is also the import root; output goes under one
# shared ${CMAKE_BINARY_DIR}/gen so every library sees every other's headers.
# With GRPC, the service stubs go into a second library, NAME_grpc, so the
# plugin (which serves through the ABI, not through gRPC) links no gRPC.
set(MCPREG_PROTO_GEN_DIR ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${MCPREG_PROTO_GEN_DIR})

function(mcpreg_proto_library)
  cmake_parse_arguments(ARG "GRPC" "NAME" "PROTOS;DEPS;IMPORT_DIRS" ${ARGN})
  add_library(${ARG_NAME} STATIC ${ARG_PROTOS})
  target_link_libraries(${ARG_NAME} PUBLIC protobuf::libprotobuf ${ARG_DEPS})
  target_include_directories(${ARG_NAME} PUBLIC ${MCPREG_PROTO_GEN_DIR})
  # Generated code is not ours to warn about.
  target_compile_options(${ARG_NAME} PRIVATE -w)
  protobuf_generate(TARGET ${ARG_NAME} LANGUAGE cpp
    IMPORT_DIRS ${ARG_IMPORT_DIRS}
    PROTOC_OUT_DIR ${MCPREG_PROTO_GEN_DIR})
  if(ARG_GRPC)
    add_library(${ARG_NAME}_grpc STATIC ${ARG_PROTOS})
    target_link_libraries(${ARG_NAME}_grpc PUBLIC ${ARG_NAME} gRPC::grpc++)
    target_compile_options(${ARG_NAME}_grpc PRIVATE -w)
    protobuf_generate(TARGET ${ARG_NAME}_grpc LANGUAGE grpc
      GENERATE_EXTENSIONS .grpc.pb.h .grpc.pb.cc
      PLUGIN "protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>"
      IMPORT_DIRS ${ARG_IMPORT_DIRS}
      PROTOC_OUT_DIR ${MCPREG_PROTO_GEN_DIR})
  endif()
endfunction()
