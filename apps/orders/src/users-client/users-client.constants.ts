export const USERS_GRPC_CLIENT = Symbol('USERS_GRPC_CLIENT');
