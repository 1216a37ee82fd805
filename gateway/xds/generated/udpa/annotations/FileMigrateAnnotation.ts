// Original file: node_modules/@grpc/grpc-js-xds/deps/xds/udpa/annotations/migrate.proto


export interface FileMigrateAnnotation {
  'moveToPackage'?: (string);
}

export interface FileMigrateAnnotation__Output {
  'moveToPackage': (string);
}
