import { Public } from '@app/platform';
import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CATALOG } from './catalog';

@ApiTags('catalog')
@Controller('catalog')
export class CatalogHttpController {
  @Public()
  @Get()
  @ApiOkResponse({ description: '[{sku, name, price, currency}]; price in minor units' })
  list() {
    return CATALOG;
  }
}
