import type { ReflectableDecorator } from '@nestjs/core';

/**
 * Where a method or class decorator keeps its metadata (Nest's `SetMetadata` convention):
 * on the method's function, or on the class.
 */
export function metadataTarget(target: object, descriptor?: PropertyDescriptor): object {
  return descriptor ? (descriptor.value as object) : target;
}

/**
 * A decorator that ADDS `values` to the list `decorator` keeps on its target. Nest's
 * `Reflector.createDecorator` (SetMetadata) replaces it: of two stacked `@CheckPolicies` on one
 * method only the upper one was kept, so a route that stacked a type check over an object
 * check silently lost the object check.
 */
export function appendMetadata<T>(
  decorator: ReflectableDecorator<T[]>,
  values: readonly T[],
): MethodDecorator & ClassDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const on = metadataTarget(target, descriptor);
    const existing = (Reflect.getMetadata(decorator.KEY, on) as T[] | undefined) ?? [];
    Reflect.defineMetadata(decorator.KEY, Object.freeze([...existing, ...values]), on);
  };
}
