// Original file: node_modules/@grpc/grpc-js-xds/deps/protoc-gen-validate/validate/validate.proto


export interface EnumRules {
  'const'?: (number);
  'definedOnly'?: (boolean);
  'in'?: (number)[];
  'notIn'?: (number)[];
}

export interface EnumRules__Output {
  'const': (number);
  'definedOnly': (boolean);
  'in': (number)[];
  'notIn': (number)[];
}
