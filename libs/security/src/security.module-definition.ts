import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { SecurityModuleOptions } from './security.options';

export const {
  ConfigurableModuleClass: ConfigurableSecurityModule,
  MODULE_OPTIONS_TOKEN: SECURITY_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SecurityModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({}, (definition) => ({ ...definition, global: true }))
  .build();
