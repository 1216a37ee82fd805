// Original file: node_modules/@grpc/grpc-js-xds/deps/xds/udpa/annotations/migrate.proto


export interface FieldMigrateAnnotation {
  'rename'?: (string);
  'oneofPromotion'?: (string);
}

export interface FieldMigrateAnnotation__Output {
  'rename': (string);
  'oneofPromotion': (string);
}
